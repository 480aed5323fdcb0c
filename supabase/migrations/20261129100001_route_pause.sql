-- Pausing a route (issue 15): an operator stops one handler from running for a while
-- without losing its events. Distinct from is_active = false, which takes the route out of
-- the routing (events then complete without that handler: what a retired route does).
-- A paused route stays routed; the attempt does not run its handler and logs the run
-- 'deferred' (src/bus/run-attempt.ts), which complete_attempts already treats as a wait:
-- the event goes back to pending, due again a little later, no retry spent, its other
-- handlers' successes kept. Resumed, the next attempt runs the handler.
--
-- The monitor's routes view reads every route with its numbers over a window
-- (monitor_routes), and pauses and resumes through pause_route / resume_route, audited
-- as the other operator actions.

alter table feyxa.event_subscriptions add column if not exists paused_at timestamptz;
comment on column feyxa.event_subscriptions.paused_at is
  'Set while an operator has paused the route: its handler does not run, its events wait (runs logged deferred) until resumed. Null: running. Not written by sync_routes.';

alter table feyxa.monitor_actions drop constraint if exists monitor_actions_kind_check;
alter table feyxa.monitor_actions add constraint monitor_actions_kind_check
  check (kind in ('retry', 'redrive', 'replay', 'discard', 'cancel', 'bulk_retry', 'bulk_redrive', 'bulk_discard',
                  'pause_route', 'resume_route'));

-- Pause or resume one route (pattern, handler). Audited, idempotent per action id; no
-- change when it already is so. The trigger on event_subscriptions tells the dispatchers.
create or replace function feyxa.set_route_paused(p_action_id uuid, p_event_pattern text, p_handler_name text, p_paused boolean)
returns jsonb
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, case when p_paused then 'pause_route' else 'resume_route' end,
    jsonb_build_object('event_pattern', p_event_pattern, 'handler_name', p_handler_name));
  v_route event_subscriptions;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  select * into v_route from event_subscriptions
  where event_pattern = p_event_pattern and handler_name = p_handler_name for update;
  if not found then
    raise exception using errcode = 'P0002', detail = 'handler_name',
      message = format('no route %s -> %s', p_event_pattern, p_handler_name);
  end if;
  if (v_route.paused_at is not null) = p_paused then
    return operator_finish_action(p_action_id, jsonb_build_object('changed', false, 'paused', p_paused));
  end if;
  update event_subscriptions set paused_at = case when p_paused then now() end, updated_at = now()
  where id = v_route.id;
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'paused', p_paused));
end;
$$;
comment on function feyxa.set_route_paused(uuid, text, text, boolean) is
  'Internal to pause_route and resume_route: sets or clears event_subscriptions.paused_at of one route, audited (monitor_actions), idempotent per action id. Security definer: API roles cannot write event_subscriptions nor the audit trail; operator_begin_action checks the caller first.';

create or replace function feyxa.pause_route(p_action_id uuid, p_event_pattern text, p_handler_name text)
returns jsonb
language sql
security definer
set search_path = feyxa, pg_catalog
as $$ select set_route_paused(p_action_id, p_event_pattern, p_handler_name, true) $$;
comment on function feyxa.pause_route(uuid, text, text) is
  'Operator action: the route''s handler stops running; its events wait (deferred, no retry spent) until resume_route. Audited, idempotent per action id. Security definer as set_route_paused.';

create or replace function feyxa.resume_route(p_action_id uuid, p_event_pattern text, p_handler_name text)
returns jsonb
language sql
security definer
set search_path = feyxa, pg_catalog
as $$ select set_route_paused(p_action_id, p_event_pattern, p_handler_name, false) $$;
comment on function feyxa.resume_route(uuid, text, text) is
  'Operator action: a paused route''s handler runs again, from the next attempt of each waiting event. Audited, idempotent per action id. Security definer as set_route_paused.';

-- Every route with its handler's numbers over the window: runs, failures, p50/p95 of the
-- runs that did something, the last error. Operators only (others get no rows): the
-- routing table is not readable by API roles, hence security definer.
create or replace function feyxa.monitor_routes(p_window_seconds int)
returns table (event_pattern text, handler_name text, target_kind text, target text, managed_by text,
               is_active boolean, paused_at timestamptz, retired_at timestamptz,
               runs int, failures int, deferred int, p50_ms int, p95_ms int, last_error text, last_error_at timestamptz)
language plpgsql stable
security definer
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
    with stats as (
      select h.handler_name,
             count(*) filter (where h.status not in ('skipped', 'waiting', 'blocked', 'deferred'))::int as runs,
             count(*) filter (where h.status = 'failed')::int as failures,
             count(*) filter (where h.status = 'deferred')::int as deferred,
             round(percentile_cont(0.5) within group (order by h.duration_ms)
                   filter (where h.status not in ('skipped', 'waiting', 'blocked', 'deferred')))::int as p50_ms,
             round(percentile_cont(0.95) within group (order by h.duration_ms)
                   filter (where h.status not in ('skipped', 'waiting', 'blocked', 'deferred')))::int as p95_ms,
             (array_agg(h.error_message order by h.created_at desc) filter (where h.status = 'failed'))[1] as last_error,
             max(h.created_at) filter (where h.status = 'failed') as last_error_at
      from event_handlers_log h
      where h.created_at >= now() - make_interval(secs => p_window_seconds)
      group by h.handler_name
    )
    select s.event_pattern, s.handler_name, s.target_kind,
           -- A remote handler's URL without its query string (where secrets tend to be).
           case when s.target_kind = 'local' then null else split_part(coalesce(s.target, ''), '?', 1) end,
           s.managed_by, s.is_active, s.paused_at, s.retired_at,
           coalesce(st.runs, 0), coalesce(st.failures, 0), coalesce(st.deferred, 0), st.p50_ms, st.p95_ms, st.last_error, st.last_error_at
    from event_subscriptions s left join stats st on st.handler_name = s.handler_name
    order by s.retired_at is not null, s.event_pattern, s.handler_name;
end;
$$;
comment on function feyxa.monitor_routes(int) is
  'The monitor''s routes view: every route (pattern, handler, target, active / paused / retired) with its handler''s runs, failures, deferrals, p50/p95 (ms) and last error over the last p_window_seconds (at most 31 days). No rows for an API user who is not an operator.';

revoke all on function feyxa.set_route_paused(uuid, text, text, boolean), feyxa.pause_route(uuid, text, text),
  feyxa.resume_route(uuid, text, text), feyxa.monitor_routes(int) from public, anon, authenticated;
grant execute on function feyxa.pause_route(uuid, text, text), feyxa.resume_route(uuid, text, text), feyxa.monitor_routes(int)
  to authenticated, service_role;
