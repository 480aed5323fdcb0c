-- What Supabase gives every project and a plain PostgreSQL lacks: the API roles and the
-- auth schema's helpers that policies use. On Supabase everything here exists already
-- and nothing is replaced; locally (embedded PostgreSQL, DATABASE_URL) it makes RLS
-- policies run exactly as they will on Supabase: a request sets
--   set local role authenticated; select set_config('request.jwt.claims', '<claims json>', true);
-- and auth.uid() / auth.jwt() read those claims, as PostgREST does.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end;
$$;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;

do $$
begin
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
    language sql stable
    as $f$
      select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
    $f$;
    comment on function auth.jwt() is 'Local stand-in for Supabase''s auth.jwt(): the claims of the current request.';
  end if;
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
    language sql stable
    as $f$
      select nullif(auth.jwt() ->> 'sub', '')::uuid
    $f$;
    comment on function auth.uid() is 'Local stand-in for Supabase''s auth.uid(): the sub claim of the current request.';
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
    language sql stable
    as $f$
      select coalesce(auth.jwt() ->> 'role', current_user)
    $f$;
    comment on function auth.role() is 'Local stand-in for Supabase''s auth.role(): the role claim of the current request.';
  end if;
  if to_regclass('auth.users') is null then
    create table auth.users (
      id uuid primary key default gen_random_uuid(),
      email text unique,
      raw_user_meta_data jsonb not null default '{}',
      created_at timestamptz not null default now()
    );
    comment on table auth.users is 'Local stand-in for Supabase Auth''s users table (only the columns this project reads).';
  end if;
end;
$$;
grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;
