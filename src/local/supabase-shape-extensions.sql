-- pg_net and pg_cron as a hosted project has them once they are enabled, for the tier that
-- runs the real wake-up path (PostgreSQL 15 with both built from ../shared/vendor).
-- Applied as supabase_admin by shapeLikeHosted(..., { extensions: true }) after
-- supabase-shape.sql and BEFORE the migrations; idempotent.
--
-- Needs a server that preloads both (shared_preload_libraries = 'pg_net,pg_cron', a restart)
-- with this database as pg_net.database_name and cron.database_name: each one's background
-- worker serves a single database, and pg_cron refuses CREATE EXTENSION anywhere else.
-- On a hosted project both are preloaded and serve the database `postgres`
-- (supabase/postgres ansible/files/postgresql_config/conf.d/pgcron.conf: cron.database_name).
--
-- Who creates them: on a hosted project the migrating role postgres runs CREATE EXTENSION
-- itself; supautils lists both in supautils.privileged_extensions and runs the statement as
-- supautils.privileged_extensions_superuser (supabase_admin), then the extension's
-- after-create script (ansible/files/postgresql_config/supautils.conf.j2). There is no
-- supautils here, so the harness creates them as supabase_admin and applies the same grants;
-- the migrations' own `create extension if not exists` (000006) then finds them.

-- pg_net: its objects go to schema net whatever the extension's schema; the dashboard
-- enables it in `extensions`.
create extension if not exists pg_net with schema extensions;
-- pg_net 0.12 and later (this one is 0.20.4) grant USAGE on net, ALL on its tables (the
-- request queue, the responses) and EXECUTE on net.http_get/http_post to PUBLIC, SECURITY
-- INVOKER, in their own install script. Supabase's grant_pg_net_access event trigger
-- (init-scripts/00000000000003-post-setup.sql) adds USAGE on net for its roles and a role
-- supabase_functions_admin; the SECURITY DEFINER / EXECUTE-to-roles part of that trigger
-- applies to pg_net 0.11 and earlier only (migrations/20250220051611_pg_net_perms_fix.sql
-- reverts it to SECURITY INVOKER and EXECUTE to PUBLIC for 0.12+), so it is not applied here.
do $$
begin
  if not exists (select from pg_roles where rolname = 'supabase_functions_admin') then
    create role supabase_functions_admin noinherit createrole login noreplication;
  end if;
end;
$$;
grant usage on schema net to supabase_functions_admin, postgres, anon, authenticated, service_role;

-- pg_cron: in pg_catalog (its control file's schema), its tables in schema cron. The grants
-- are pg_cron's after-create script on hosted
-- (ansible/files/postgresql_extension_custom_scripts/pg_cron/after-create.sql): postgres may
-- use the schema and call every cron function (schedule, unschedule, alter_job,
-- schedule_in_database, which pg_cron itself revokes from PUBLIC), has ALL on the run
-- history, and only SELECT on cron.job: jobs are changed through the functions, which check
-- that the job is the caller's.
create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres with grant option;
grant all on all functions in schema cron to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all on sequences to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all on tables to postgres with grant option;
alter default privileges for user supabase_admin in schema cron grant all on functions to postgres with grant option;
grant all privileges on all tables in schema cron to postgres with grant option;
revoke all on table cron.job from postgres;
grant select on table cron.job to postgres with grant option;
