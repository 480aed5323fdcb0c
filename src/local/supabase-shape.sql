-- A database made the way a hosted Supabase project's is, before any migration of ours runs.
-- Applied as the cluster's superuser `supabase_admin` to each database (npm start's, the
-- test suite's template) by src/local/supabase-shape.ts; idempotent. Each block names the
-- hosted fact it reproduces and where Supabase sets it (supabase/postgres, migrations/db/).
-- What is NOT reproduced is listed in docs/hosted-parity.md.

-- Roles (init-scripts/00000000000000-initial-schema.sql; migrations/10000000000000_demote-postgres.sql;
-- migrations/20230529180330_alter_api_roles_for_inherit.sql). Roles are cluster-wide: the first
-- database shaped creates them, the others find them.
do $$
begin
  if not exists (select from pg_roles where rolname = 'postgres') then create role postgres; end if;
  if not exists (select from pg_roles where rolname = 'anon') then create role anon; end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then create role authenticated; end if;
  if not exists (select from pg_roles where rolname = 'service_role') then create role service_role; end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then create role authenticator; end if;
  if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then create role supabase_auth_admin; end if;
end;
$$;
-- The migrating role: not a superuser, but bypasses RLS and may create databases and roles.
alter role postgres with nosuperuser createdb createrole login replication bypassrls password 'postgres';
-- The API roles PostgREST switches to; INHERIT since 2023; only service_role bypasses RLS.
alter role anon with nologin inherit nobypassrls;
alter role authenticated with nologin inherit nobypassrls;
alter role service_role with nologin inherit bypassrls;
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
-- PostgREST logs in as authenticator (NOINHERIT) and SET ROLEs to the request's role.
alter role authenticator with login noinherit password 'authenticator';
grant anon, authenticated, service_role to authenticator;
-- postgres may act as each API role (SET ROLE), as it can on a hosted project; from 16 on,
-- where CREATEROLE alone no longer lets it hand them out, with ADMIN OPTION
-- (migrations/20250605172253_grant_with_admin_to_postgres_16_and_above.sql).
grant anon, authenticated, service_role to postgres;
do $$
begin
  if current_setting('server_version_num')::int >= 160000 then
    execute 'grant anon, authenticated, service_role to postgres with admin option';
  end if;
end;
$$;
-- Supabase Auth's own role owns the auth schema; postgres is not a member of it
-- (migrations/20240627101908_revoke_supabase_auth_admin_from_postgres.sql).
alter role supabase_auth_admin with login noinherit createrole;

-- postgres owns the project's database objects; the database itself it may use fully
-- (demote-postgres: GRANT ALL ON DATABASE postgres TO postgres).
do $$
begin
  execute format('grant all on database %I to postgres', current_database());
end;
$$;

-- Extensions live in their own schema (initial-schema: `extensions`).
create schema if not exists extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
grant all on schema extensions to postgres;
alter role postgres set search_path to "$user", public, extensions;

-- The public schema: every API role may use it, and Supabase's default privileges grant
-- anon, authenticated and service_role ALL on every table, sequence and function that
-- postgres (the migrating role) or supabase_admin creates there. A migration that forgets
-- to revoke exposes its object through the Data API: the point of shaping tests like this.
grant usage on schema public to postgres, anon, authenticated, service_role;
grant all on schema public to postgres;
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public grant all on functions to postgres, anon, authenticated, service_role;

-- The auth schema, owned by Supabase Auth (init-scripts/00000000000001-auth-schema.sql,
-- migrations/20211124212715_update-auth-owner.sql). postgres may use it and read and write
-- auth.users (demote-postgres), but owns nothing there and cannot create in it.
create schema if not exists auth authorization supabase_auth_admin;
alter schema auth owner to supabase_auth_admin;
grant usage on schema auth to postgres, anon, authenticated, service_role;

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text unique,
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
comment on table auth.users is 'Auth: Stores user login data within a secure schema. (Supabase Auth''s columns; the harness''s stand-in.)';
-- GoTrue's uniqueness of emails: partial, SSO users may share one.
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
alter table auth.users owner to supabase_auth_admin;
grant all on auth.users to postgres;

-- auth.uid(), auth.role(), auth.email(), auth.jwt() exactly as Supabase Auth defines them
-- (supabase/auth migrations/tenant/20211202183645_update_auth_uid.up.sql and its siblings):
-- they read request.jwt.claim.* (older PostgREST) or request.jwt.claims (current), NULL when absent.
create or replace function auth.uid() returns uuid language sql stable as $$
  select nullif(coalesce(current_setting('request.jwt.claim.sub', true),
                         (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')), '')::uuid
$$;
create or replace function auth.role() returns text language sql stable as $$
  select nullif(coalesce(current_setting('request.jwt.claim.role', true),
                         (current_setting('request.jwt.claims', true)::jsonb ->> 'role')), '')::text
$$;
create or replace function auth.email() returns text language sql stable as $$
  select nullif(coalesce(current_setting('request.jwt.claim.email', true),
                         (current_setting('request.jwt.claims', true)::jsonb ->> 'email')), '')::text
$$;
create or replace function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                  nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to postgres, anon, authenticated, service_role;

-- Vault (supabase/vault, supabase_vault extension): secrets in vault.secrets, read through
-- vault.decrypted_secrets, written with vault.create_secret; postgres may use all three.
-- Stand-in: the secret is stored as given, not encrypted (docs/hosted-parity.md).
create schema if not exists vault authorization supabase_admin;
create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
create unique index if not exists secrets_name_idx on vault.secrets (name) where name is not null;
create or replace view vault.decrypted_secrets as
  select id, name, description, secret, secret as decrypted_secret, key_id, nonce, created_at, updated_at from vault.secrets;
create or replace function vault.create_secret(new_secret text, new_name text default null,
                                               new_description text default '', new_key_id uuid default null)
returns uuid language sql security definer set search_path = '' as $$
  insert into vault.secrets (secret, name, description, key_id)
  values (new_secret, new_name, coalesce(new_description, ''), new_key_id) returning id
$$;
create or replace function vault.update_secret(secret_id uuid, new_secret text default null, new_name text default null,
                                               new_description text default null, new_key_id uuid default null)
returns void language sql security definer set search_path = '' as $$
  update vault.secrets set secret = coalesce(new_secret, secret), name = coalesce(new_name, name),
    description = coalesce(new_description, description), key_id = coalesce(new_key_id, key_id), updated_at = now()
  where id = secret_id
$$;
revoke all on schema vault from public;
revoke all on all tables in schema vault from public;
revoke all on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid) from public;
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret(text, text, text, uuid), vault.update_secret(uuid, text, text, text, uuid)
  to postgres with grant option;
