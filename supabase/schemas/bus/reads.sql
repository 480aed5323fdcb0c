-- Who reads what: the bus's read-policy hooks and the row-level security of every bus table.
--
-- The bus does not know who its readers are. It asks five hook functions, and the
-- application answers by replacing their bodies (create or replace, same signatures) in a
-- schema file applied after this one; the marketplace's answers are in
-- supabase/schemas/marketplace/bus-config.sql (admins operate the whole bus, store members
-- read their stores' events). The bodies here are the bus's own: they deny, so a bus
-- without an application shows its events to the server roles only.
--
--   reader_is_operator()    the caller operates the whole bus: reads every event, acts on them
--   reader_tenants()        the tenant keys (events_log.tenant_id) whose events the caller reads
--   reader_tenant_labels()  the tenants the caller may filter the monitor by, with a label
--   tenant_label(tenant)    the name the monitor shows for one tenant key
--   story_seeds(term)       the events a search term names in the application's words
--
-- The policies call the first two once per query, never per row: each is wrapped in a
-- scalar sub-select, which the planner runs once as an initplan (the monitor reads millions
-- of rows through these policies), and the tenant list then meets the tenant index
-- (events_log_tenant_created_idx) as = any(). events_log decides: the rows of the other
-- tables about an event (its handler runs, its queue row, its stream entry, its webhook
-- deliveries) are visible exactly when the event is. Only the server roles write; the
-- policies are for reading, but for the alert rules, which operators manage.
--
-- Last, the monitor's reads of the routing, which API roles cannot read themselves.

-- Read-policy hook: whether the caller operates the whole bus. The application replaces
-- this body; the bus's denies.
create or replace function feyxa.reader_is_operator()
returns boolean
language sql stable
set search_path = feyxa, pg_catalog
as $$ select false $$;
comment on function feyxa.reader_is_operator() is
  'Read-policy hook: true when the current request''s user operates the whole bus (reads every event, acts on events in the monitor). The bus''s own body denies; the application replaces it.';

-- Read-policy hook: the tenant keys whose events the caller reads. The application replaces
-- this body; the bus's returns none.
create or replace function feyxa.reader_tenants()
returns uuid[]
language sql stable
set search_path = feyxa, pg_catalog
as $$ select '{}'::uuid[] $$;
comment on function feyxa.reader_tenants() is
  'Read-policy hook: the tenant keys (events_log.tenant_id) whose events the current request''s user may read. The bus''s own body returns none; the application replaces it.';
revoke all on function feyxa.reader_is_operator(), feyxa.reader_tenants() from public, anon, authenticated;
grant execute on function feyxa.reader_is_operator(), feyxa.reader_tenants() to authenticated, service_role;

-- Read hooks of the monitor, which names tenants without knowing what a tenant is: the
-- tenants the caller may filter by, with a name and a slug, and one tenant's name. The
-- application replaces these bodies (the marketplace: its stores); the bus's give the
-- caller's tenant keys unlabelled.
create or replace function feyxa.reader_tenant_labels()
returns table (id uuid, name text, slug text)
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select t, null::text, null::text from unnest(reader_tenants()) t
$$;
comment on function feyxa.reader_tenant_labels() is
  'Read hook: the tenants the current request''s caller may filter the monitor by, with a name and a slug to show. The bus''s body lists reader_tenants() unlabelled; the application replaces it (same signature).';

create or replace function feyxa.tenant_label(p_tenant uuid)
returns text
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select null::text
$$;
comment on function feyxa.tenant_label(uuid) is
  'Read hook: the name the monitor shows for a tenant key (an event''s tenant_id). The bus''s body has none (null); the application replaces it (same signature).';
revoke all on function feyxa.reader_tenant_labels(), feyxa.tenant_label(uuid) from public, anon, authenticated;
grant execute on function feyxa.reader_tenant_labels(), feyxa.tenant_label(uuid) to authenticated, service_role;

-- Story hook: the events a search term names in the application's words (an order's number,
-- say), whose stories the monitor's story view shows. The bus finds event ids, aggregate ids
-- and correlation ids itself; this body names nothing more. Called as the caller, so the
-- application's tables and the log answer under their RLS. The application replaces it.
create or replace function feyxa.story_seeds(p_term text)
returns setof uuid
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select null::uuid where false
$$;
comment on function feyxa.story_seeds(text) is
  'Story hook: the events a search term names in the application''s words (an order number...), for the monitor''s story view. The bus''s body names none; the application replaces it (same signature).';
revoke all on function feyxa.story_seeds(text) from public, anon, authenticated;
grant execute on function feyxa.story_seeds(text) to authenticated, service_role;

-- Events: an operator reads every one, anyone else those of the tenants they read.
create policy events_log_read on feyxa.events_log for select to authenticated
  using ((select feyxa.reader_is_operator()) or tenant_id = any ((select feyxa.reader_tenants())::uuid[]));

-- What belongs to an event is visible exactly when the event is (events_log's policy). An
-- operator's test comes first, once per statement: else each row would look its event up.
create policy event_handlers_log_read on feyxa.event_handlers_log for select to authenticated
  using ((select feyxa.reader_is_operator()) or exists (select 1 from feyxa.events_log e where e.id = event_handlers_log.event_id));

create policy event_queue_read on feyxa.event_queue for select to authenticated
  using ((select feyxa.reader_is_operator()) or exists (select 1 from feyxa.events_log e where e.id = event_queue.event_id));

-- An aggregate's stream, the monitor's timeline of it.
create policy aggregate_stream_events_read on feyxa.aggregate_stream_events for select to authenticated
  using ((select feyxa.reader_is_operator()) or exists (select 1 from feyxa.events_log e where e.id = aggregate_stream_events.event_id));

-- A remote handler run's HTTP status and the start of the answer, in the event's detail.
create policy webhook_deliveries_read on feyxa.webhook_deliveries for select to authenticated
  using ((select feyxa.reader_is_operator()) or exists (select 1 from feyxa.events_log e where e.id = webhook_deliveries.event_id));
comment on policy webhook_deliveries_read on feyxa.webhook_deliveries is 'A signed-in user reads the deliveries of the events they may read (the events_log policy), as event_handlers_log.';

-- The audit trail of operator actions: operators only.
create policy monitor_actions_read on feyxa.monitor_actions for select to authenticated
  using ((select feyxa.reader_is_operator()));

-- Alerts: a tenant's readers read its rules, their states and their notices; operators read
-- everything. Managing rules stays with operators (the monitor): reading a store's events
-- does not make one who may silence its alerts; an application that wants its store owners
-- to manage their rules adds a policy naming its owner role. One policy per table and
-- action, the operators' case folded into each, so that a row is checked once, not once per
-- permissive policy.
create policy alert_rules_read on feyxa.alert_rules for select to authenticated
  using ((select feyxa.reader_is_operator()) or tenant_id = any ((select feyxa.reader_tenants())::uuid[]));
create policy alert_rules_insert on feyxa.alert_rules for insert to authenticated
  with check ((select feyxa.reader_is_operator()));
create policy alert_rules_update on feyxa.alert_rules for update to authenticated
  using ((select feyxa.reader_is_operator()))
  with check ((select feyxa.reader_is_operator()));
create policy alert_rules_delete on feyxa.alert_rules for delete to authenticated
  using ((select feyxa.reader_is_operator()));

create policy alert_states_read on feyxa.alert_states for select to authenticated
  using ((select feyxa.reader_is_operator())
         or exists (select from feyxa.alert_rules r
                    where r.id = alert_states.rule_id and r.tenant_id = any ((select feyxa.reader_tenants())::uuid[])));

create policy alert_notices_read on feyxa.alert_notices for select to authenticated
  using ((select feyxa.reader_is_operator()) or tenant_id = any ((select feyxa.reader_tenants())::uuid[]));

-- The handlers an event type is routed to, by the active routes. Mirrors patternMatches in
-- src/bus/router.ts: `*` matches every type, `order.*` every type under `order.`, anything
-- else only itself. Security definer: operators may see the routing, not edit it, and API
-- roles cannot read event_subscriptions. A signed-in user who is neither an operator nor
-- reads any tenant (a buyer) gets nothing; the server (service_role, or postgres with no
-- request claims) gets the routing. The claims are read without auth.role(), which fails on
-- the empty setting a pooled connection keeps after a request's `set local`.
create or replace function feyxa.monitor_routed_handlers(p_event_type text)
returns text[]
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') is not distinct from 'authenticated'
     and not reader_is_operator()
     and cardinality(reader_tenants()) = 0 then
    return '{}'::text[];
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
comment on function feyxa.monitor_routed_handlers(text) is 'The active handler names an event type is routed to (same matching as the dispatcher''s Router: *, prefix.*, exact); empty for a signed-in user who is neither an operator nor reads any tenant.';
revoke all on function feyxa.monitor_routed_handlers(text) from public;
grant execute on function feyxa.monitor_routed_handlers(text) to authenticated, service_role;

-- The retry policy a failing handler of an event answers to: the route the completion would
-- take it from (complete_attempts, completion.sql: among the handler's active routes that
-- match the type and carry a policy, the longest pattern), with its max_attempts; no row when
-- the bus's settings apply (the event's max_retries). Security definer (API roles cannot
-- read event_subscriptions); who may see it is who may see the routing: it reads through
-- monitor_routed_handlers (the handlers the active routes give the type), which answers
-- nothing to a signed-in user who is neither an operator nor reads any tenant.
create or replace function feyxa.monitor_route_policy(p_handler_name text, p_event_type text)
returns table(event_pattern text, max_attempts int)
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
begin
  return query
    select sub.event_pattern, sub.max_attempts
    from event_subscriptions sub
    where sub.handler_name = p_handler_name and sub.is_active
      and p_handler_name = any (monitor_routed_handlers(p_event_type))
      and (sub.max_attempts is not null or sub.retry_base is not null or sub.retry_factor is not null
           or sub.retry_cap is not null or sub.retry_jitter is not null)
      and (sub.event_pattern = '*' or sub.event_pattern = p_event_type
           or (right(sub.event_pattern, 2) = '.*' and starts_with(p_event_type, left(sub.event_pattern, -1))))
    order by length(sub.event_pattern) desc limit 1;
end;
$$;
comment on function feyxa.monitor_route_policy(text,text) is 'The route whose retry policy a handler answers to for an event type (as complete_attempts picks it), with its max_attempts; no row when the bus''s settings apply. Nothing for a signed-in user who may not see the routing.';
revoke all on function feyxa.monitor_route_policy(text,text) from public;
grant execute on function feyxa.monitor_route_policy(text,text) to authenticated, service_role;

-- How much of its retry budget an open event has spent, by its real policy: of the handlers
-- that failed it and have not succeeded since, the one nearest its limit. A handler whose
-- route has max_attempts counts its own failures of the event against it; any other counts
-- the event's (retry_count against max_retries + 1 attempts), as complete_attempts does. The
-- monitor's retry queue says "3 of 8 attempts used (route order.* → fintech.pay)". Security
-- invoker: it reads the handler runs the caller's policy shows. PL/pgSQL, so that a
-- migration may create it before monitor_route_policy (a SQL body is checked at creation).
create or replace function feyxa.monitor_retry_budget(p_event_id uuid, p_event_type text, p_retry_count int, p_max_retries int)
returns table(handler_name text, event_pattern text, attempts_used int, attempts_allowed int)
language plpgsql stable
set search_path = feyxa, pg_catalog
as $$
begin
  return query
    select f.handler_name, pol.event_pattern,
           case when pol.max_attempts is not null then f.failures else p_retry_count end,
           coalesce(pol.max_attempts, p_max_retries + 1)
    from (select h.handler_name, count(*)::int as failures
          from event_handlers_log h
          where h.event_id = p_event_id and h.status = 'failed'
            and not exists (select 1 from event_handlers_log s
                            where s.event_id = p_event_id and s.handler_name = h.handler_name and s.status = 'success')
          group by h.handler_name) f
    left join lateral monitor_route_policy(f.handler_name, p_event_type) pol on true
    order by coalesce(pol.max_attempts, p_max_retries + 1) - case when pol.max_attempts is not null then f.failures else p_retry_count end,
             f.handler_name
    limit 1;
end;
$$;
comment on function feyxa.monitor_retry_budget(uuid,text,integer,integer) is 'Of the handlers that failed the event and have not succeeded since, the one nearest its limit: its name, the route whose policy applies (null: the bus''s settings), the attempts it has used and the attempts it is allowed.';
revoke all on function feyxa.monitor_retry_budget(uuid,text,integer,integer) from public;
grant execute on function feyxa.monitor_retry_budget(uuid,text,integer,integer) to authenticated, service_role;

-- Every route with its own numbers over the window: runs, failures, p50/p95 of the runs
-- that did something, the last error. Operators only (others get no rows): the routing
-- table is not readable by API roles, hence security definer.
--
-- A run belongs to a handler and an event, not to a route: the attempt runs a handler once
-- for an event however many of its routes match the event's type (src/bus/router.ts). So a
-- route's runs are its handler's runs of the events whose type the route's pattern matches
-- (the event's type read by primary key); a route that matched no event shows none, where
-- it used to show its handler's numbers across all its routes. Two routes of one handler
-- whose patterns overlap (order.* and order.created) both count a run of an event they both
-- match: shared_with names them, so that the page can say the numbers are shared.
-- Recording the route on each run instead would widen event_handlers_log, the drain's
-- hottest table, for a read the monitor makes every few seconds, and still have to pick one
-- of two overlapping routes. The join costs one primary-key lookup per run in the window;
-- the scan of the window's runs (BRIN) dominates, as it did in the by-handler read this
-- replaces. Measured on PostgreSQL 17, two busy cores, four handlers on five types: 400,000
-- runs in a one-hour window, 570 ms (by handler: 650 ms); 1,000,000 events over a week
-- (23,000 runs in the hour), 640 ms (by handler: 770 ms), of which the lookups are 60 ms.
create or replace function feyxa.monitor_routes(p_window_seconds integer)
returns table(
  event_pattern text, handler_name text, target_kind text, target text, managed_by text,
  is_active boolean, paused_at timestamptz, retired_at timestamptz,
  runs int, failures int, deferred int, p50_ms int, p95_ms int, last_error text, last_error_at timestamptz,
  shared_with text[])
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') in ('anon', 'authenticated')
     and not reader_is_operator() then
    return;
  end if;
  if p_window_seconds is null or p_window_seconds not between 1 and 31 * 86400 then
    raise exception using errcode = '22023', message = 'window must be 1 second to 31 days', detail = 'window';
  end if;
  return query
    with runs as (
      select h.handler_name, e.event_type, h.status, h.duration_ms, h.error_message, h.created_at,
             h.status not in ('skipped', 'waiting', 'blocked', 'deferred') as ran
      from event_handlers_log h join events_log e on e.id = h.event_id
      where h.created_at >= now() - make_interval(secs => p_window_seconds)
    ), stats as (
      select s.id,
             count(*) filter (where r.ran)::int as runs,
             count(*) filter (where r.status = 'failed')::int as failures,
             count(*) filter (where r.status = 'deferred')::int as deferred,
             round(percentile_cont(0.5) within group (order by r.duration_ms) filter (where r.ran))::int as p50_ms,
             round(percentile_cont(0.95) within group (order by r.duration_ms) filter (where r.ran))::int as p95_ms,
             (array_agg(r.error_message order by r.created_at desc) filter (where r.status = 'failed'))[1] as last_error,
             max(r.created_at) filter (where r.status = 'failed') as last_error_at
      from event_subscriptions s
      join runs r on r.handler_name = s.handler_name
                 and (s.event_pattern = '*' or s.event_pattern = r.event_type
                      or (right(s.event_pattern, 2) = '.*' and starts_with(r.event_type, left(s.event_pattern, -1))))
      group by s.id
    )
    select s.event_pattern, s.handler_name, s.target_kind,
           -- A remote handler's URL without its query string (where secrets tend to be).
           case when s.target_kind = 'local' then null else split_part(coalesce(s.target, ''), '?', 1) end,
           s.managed_by, s.is_active, s.paused_at, s.retired_at,
           coalesce(st.runs, 0), coalesce(st.failures, 0), coalesce(st.deferred, 0), st.p50_ms, st.p95_ms, st.last_error, st.last_error_at,
           -- The handler's other routes that match some type this one matches: a run of such a type counts under both.
           array(select o.event_pattern from event_subscriptions o
                 where o.handler_name = s.handler_name and o.id <> s.id
                   and (o.event_pattern = '*' or s.event_pattern = '*' or o.event_pattern = s.event_pattern
                        or (right(o.event_pattern, 2) = '.*' and starts_with(s.event_pattern, left(o.event_pattern, -1)))
                        or (right(s.event_pattern, 2) = '.*' and starts_with(o.event_pattern, left(s.event_pattern, -1))))
                 order by o.event_pattern)
    from event_subscriptions s left join stats st on st.id = s.id
    order by s.retired_at is not null, s.event_pattern, s.handler_name;
end;
$$;
comment on function feyxa.monitor_routes(integer) is 'The monitor''s routes view: every route (pattern, handler, target, active / paused / retired) with its own runs, failures, deferrals, p50/p95 (ms) and last error over the last p_window_seconds (at most 31 days): its handler''s runs of the events whose type its pattern matches; shared_with lists the handler''s other routes that match a type this one does (such runs count under both). No rows for an API user who is not an operator.';
revoke all on function feyxa.monitor_routes(integer) from public;
grant execute on function feyxa.monitor_routes(integer) to authenticated, service_role;

-- The monitor's event detail shows what each routed handler waits for: handler -> its
-- routed prerequisites (those not routed to the type are ignored, as by the attempt). Who
-- may see it is who may see the routing: it reads through monitor_routed_handlers, which
-- answers nothing to a signed-in user who is neither an operator nor reads any tenant.
create or replace function feyxa.monitor_route_steps(p_event_type text)
returns jsonb
language sql stable security definer
set search_path = feyxa, pg_catalog
as $$
  with routed as (select monitor_routed_handlers(p_event_type) as names)
  select coalesce(jsonb_object_agg(t.handler_name, t.after_handlers order by t.handler_name), '{}')
  from (
    select s.handler_name, array_agg(distinct a order by a) as after_handlers
    from routed r, event_subscriptions s, unnest(s.after_handlers) a
    where s.is_active and s.handler_name = any (r.names) and a = any (r.names)
      and (s.event_pattern = '*'
           or s.event_pattern = p_event_type
           or (right(s.event_pattern, 2) = '.*' and starts_with(p_event_type, left(s.event_pattern, -1))))
    group by s.handler_name
  ) t
$$;
comment on function feyxa.monitor_route_steps(text) is 'The steps of an event type: {handler: [the routed handlers it runs after]} for its routed handlers that wait for some; empty for a signed-in user who may not see the routing.';
revoke all on function feyxa.monitor_route_steps(text) from public;
grant execute on function feyxa.monitor_route_steps(text) to authenticated, service_role;

-- Why one event waits, where the routing says it (the monitor's event detail; the reason
-- itself is waiting_reason, flow-control.sql): the paused routes it owes, each with who
-- paused it and why (the latest pause_route of the audit trail), and, for each handler that
-- failed in its latest attempt, its failures of the event against the attempts its policy
-- allows (its route's max_attempts, else the event's max_retries + 1). Null for an event the
-- caller may not read (security definer: the routing and the audit trail are not readable
-- by API roles; a tenant's reader sees its events' routes this way, not the audit's actor).
create or replace function feyxa.monitor_waiting(p_event_id uuid)
returns jsonb
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_event  events_log;
  v_caller boolean := (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') is not distinct from 'authenticated';
  v_operator boolean := not v_caller or reader_is_operator();
begin
  select * into v_event from events_log where id = p_event_id;
  if not found or not (v_operator or v_event.tenant_id = any (reader_tenants())) then
    return null;
  end if;
  return jsonb_build_object(
    'paused_routes', (
      select coalesce(jsonb_agg(jsonb_build_object(
               'event_pattern', s.event_pattern, 'handler_name', s.handler_name, 'paused_at', s.paused_at,
               'paused_by', case when v_operator then a.actor_email end, 'reason', a.reason) order by s.handler_name), '[]')
      from event_subscriptions s
      left join lateral (
        select m.actor_email, coalesce(m.target ->> 'reason', m.result ->> 'reason') as reason
        from monitor_actions m
        where m.kind = 'pause_route' and m.target ->> 'event_pattern' = s.event_pattern and m.target ->> 'handler_name' = s.handler_name
        order by m.created_at desc limit 1) a on true
      where s.is_active and s.paused_at is not null
        and (s.event_pattern = '*' or s.event_pattern = v_event.event_type
             or (right(s.event_pattern, 2) = '.*' and starts_with(v_event.event_type, left(s.event_pattern, -1))))
        and not exists (select 1 from event_handlers_log h
                        where h.event_id = p_event_id and h.handler_name = s.handler_name and h.status = 'success')),
    'retries', (
      select coalesce(jsonb_agg(jsonb_build_object(
               'handler_name', f.handler_name, 'failures', f.failures,
               'max_attempts', coalesce(p.max_attempts, v_event.max_retries + 1), 'route_policy', p.max_attempts is not null)
             order by f.handler_name), '[]')
      from (select h.handler_name,
                   (select count(*)::int from event_handlers_log x
                    where x.event_id = p_event_id and x.handler_name = h.handler_name and x.status = 'failed') as failures
            from event_handlers_log h
            where h.event_id = p_event_id and h.attempt = v_event.attempt and h.status = 'failed') f
      left join lateral (
        select s.max_attempts from event_subscriptions s
        where s.handler_name = f.handler_name and s.is_active and s.max_attempts is not null
          and (s.event_pattern = '*' or s.event_pattern = v_event.event_type
               or (right(s.event_pattern, 2) = '.*' and starts_with(v_event.event_type, left(s.event_pattern, -1))))
        order by length(s.event_pattern) desc limit 1) p on true
      where v_event.status in ('failed', 'dead')));
end;
$$;
comment on function feyxa.monitor_waiting(uuid) is 'Why an event waits, where the routing says it: the paused routes it owes (who paused them, when, why) and its failed handlers'' failures against the attempts their policy allows. Null for an event the caller may not read.';
revoke all on function feyxa.monitor_waiting(uuid) from public;
grant execute on function feyxa.monitor_waiting(uuid) to authenticated, service_role;

-- The monitor's rollups (stats.sql) cover the whole bus, every tenant at once: operators
-- read them. A tenant's reader gets its stats from its events, through events_log's policy.
create policy stats_minutes_read on feyxa.stats_minutes for select to authenticated using ((select feyxa.reader_is_operator()));
create policy stats_closed_read on feyxa.stats_closed for select to authenticated using ((select feyxa.reader_is_operator()));
create policy handler_minutes_read on feyxa.handler_minutes for select to authenticated using ((select feyxa.reader_is_operator()));
create policy stats_cursor_read on feyxa.stats_cursor for select to authenticated using ((select feyxa.reader_is_operator()));
