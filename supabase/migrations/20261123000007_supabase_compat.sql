-- What Supabase gives every project and a plain PostgreSQL lacks: the API roles and the
-- auth schema's helpers that policies use. On Supabase (and on the hosted-shaped local and
-- test databases, src/local/supabase-shape.sql) all of it exists and this migration does
-- nothing. On a plain PostgreSQL named by DATABASE_URL (as a superuser) it creates
-- stand-ins, so RLS policies still run as they will on Supabase: a request sets
--   set local role authenticated; select set_config('request.jwt.claims', '<claims json>', true);
-- and auth.uid() / auth.jwt() read those claims, as PostgREST does.
do $$
begin
  if to_regprocedure('auth.uid()') is not null then
    return; -- a Supabase project: roles, auth schema and helpers are Supabase's own
  end if;
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin bypassrls;
  end if;
  create schema if not exists auth;
  grant usage on schema auth to anon, authenticated, service_role;
  grant usage on schema public to anon, authenticated, service_role;
  create function auth.jwt() returns jsonb language sql stable as $f$
    select coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                    nullif(current_setting('request.jwt.claims', true), ''))::jsonb
  $f$;
  create function auth.uid() returns uuid language sql stable as $f$
    select nullif(coalesce(current_setting('request.jwt.claim.sub', true),
                           (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')), '')::uuid
  $f$;
  create function auth.role() returns text language sql stable as $f$
    select nullif(coalesce(current_setting('request.jwt.claim.role', true),
                           (current_setting('request.jwt.claims', true)::jsonb ->> 'role')), '')::text
  $f$;
  comment on function auth.jwt() is 'Stand-in for Supabase Auth''s auth.jwt(): the claims of the current request.';
  comment on function auth.uid() is 'Stand-in for Supabase Auth''s auth.uid(): the sub claim of the current request, NULL when absent.';
  comment on function auth.role() is 'Stand-in for Supabase Auth''s auth.role(): the role claim of the current request, NULL when absent.';
  grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;
  if to_regclass('auth.users') is null then
    create table auth.users (
      id uuid primary key default gen_random_uuid(),
      email text unique,
      raw_user_meta_data jsonb,
      created_at timestamptz default now()
    );
    comment on table auth.users is 'Stand-in for Supabase Auth''s users table (only the columns this project reads).';
  end if;
end;
$$;
