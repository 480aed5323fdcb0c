-- The bus's read rules no longer name the marketplace. Who reads which events is asked of
-- two hook functions, feyxa.reader_is_operator() and feyxa.reader_tenants(), which deny
-- everything until the application replaces their bodies (20261127900002 does, for the
-- marketplace: admins, and store members for their stores). The tenant key is
-- events_log.store_id: a generic, optional uuid to the bus (the column keeps its name in
-- this step: docs/bus-schema.md).

-- The read-policy hooks: who reads which events. The bus asks, the application answers by
-- replacing these two bodies (same signatures) in its own migration. Until then they
-- deny: a bus without an application shows its events to the server roles only.
-- Both are called once per query, never per row: the policies wrap them in a scalar
-- sub-select, which the planner runs once as an initplan (the monitor reads millions of
-- rows through these policies), and a tenant list then meets the store index as = any().
create or replace function feyxa.reader_is_operator()
returns boolean
language sql stable
set search_path = feyxa, pg_catalog
as $$ select false $$;
comment on function feyxa.reader_is_operator() is
  'Read-policy hook: true when the current request''s user operates the whole bus (reads every event, acts on events in the monitor). The bus''s own body denies; the application replaces it.';

create or replace function feyxa.reader_tenants()
returns uuid[]
language sql stable
set search_path = feyxa, pg_catalog
as $$ select '{}'::uuid[] $$;
comment on function feyxa.reader_tenants() is
  'Read-policy hook: the tenant keys (events_log.store_id) whose events the current request''s user may read. The bus''s own body returns none; the application replaces it.';

revoke all on function feyxa.reader_is_operator(), feyxa.reader_tenants() from public, anon, authenticated;
grant execute on function feyxa.reader_is_operator(), feyxa.reader_tenants() to authenticated, service_role;

-- The policies that named the marketplace (store_members, is_marketplace_admin) ask the
-- hooks instead. The others (handler runs, open events, stream rows: visible when their
-- event is) hold events_log by oid and moved with their tables unchanged.
drop policy if exists events_log_read on feyxa.events_log;
create policy events_log_read on feyxa.events_log for select to authenticated
  using ((select feyxa.reader_is_operator()) or store_id = any ((select feyxa.reader_tenants())::uuid[]));
drop policy if exists monitor_actions_read on feyxa.monitor_actions;
create policy monitor_actions_read on feyxa.monitor_actions for select to authenticated
  using ((select feyxa.reader_is_operator()));

-- The monitor's two checks of the caller, through the hooks.
create or replace function feyxa.monitor_assert_admin()
returns void
language plpgsql stable
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if auth.uid() is null or not reader_is_operator() then
    raise exception using errcode = '42501', message = 'only operators can act on events';
  end if;
end;
$$;
comment on function feyxa.monitor_assert_admin() is
  'Raises insufficient_privilege (42501) unless the current request''s user is an operator (feyxa.reader_is_operator()).';

-- Mirrors patternMatches in src/bus/router.ts. A signed-in user who is neither an operator
-- nor reads any tenant gets nothing; the server (no request claims) gets the routing.
create or replace function feyxa.monitor_routed_handlers(p_event_type text)
returns text[]
language plpgsql stable
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') is not distinct from 'authenticated'
     and not reader_is_operator()
     and cardinality(reader_tenants()) = 0 then
    return '{}';
  end if;
  return (
    select coalesce(array_agg(distinct s.handler_name order by s.handler_name), '{}')
    from event_subscriptions s
    where s.is_active
      and (s.event_pattern = '*'
           or s.event_pattern = p_event_type
           or (right(s.event_pattern, 2) = '.*' and starts_with(p_event_type, left(s.event_pattern, -1)))));
end;
$$;
comment on function feyxa.monitor_routed_handlers(text) is
  'The active handler names an event type is routed to (same matching as the dispatcher''s Router: *, prefix.*, exact); empty for a signed-in user who is neither an operator nor reads any tenant.';

-- The bus knows no event type of the application: once-per-aggregate types are the
-- application's to list (the existing row keeps its list; a new install starts empty).
alter table feyxa.event_bus_settings alter column once_per_aggregate set default '{}';
