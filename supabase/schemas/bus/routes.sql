-- Routes: which handlers an event is handed to, and how each of them runs.
--
-- A route is a row of event_subscriptions: an event whose type matches event_pattern is
-- handed to handler_name while is_active. The dispatchers cache the table (the Router,
-- src/bus/router.ts) and reload it when a statement trigger NOTIFYs feyxa_subscriptions.
--
-- Routes are written once, in code: a handler declares the event patterns it reacts to and
-- the handlers it runs after (`on`, `after`: src/bus/define-handler.ts), and sync_routes
-- writes them here under a source name (managed_by), at start and on a function's first
-- call (src/bus/route-sync.ts, docs/deploy.md). The table keeps what only the database can
-- hold: the operators' switches and their own rows (managed_by null: remote handlers, local
-- routes they add), which no sync touches. A managed route its source no longer declares is
-- retired (inactive, retired_at set), not deleted: the monitor and an operator still see
-- what it was and when it stopped; declared again, it comes back active (docs/design.md).
--
-- Remote handlers: a route may deliver to another Edge Function (target_kind 'function') or
-- to any HTTPS URL ('url') instead of running code in the dispatcher. The handler name stays
-- the run's identity in event_handlers_log; the delivery is a Standard Webhooks request with
-- the same timeout, retry, log and skip-on-retry rules as a local handler
-- (src/bus/webhooks/remote-handler.ts). Its signing secrets never leave the database
-- (webhooks.sql), and a url target is checked when it is saved (outbound.sql).
--
-- Retry policy: a route may carry its own, how many times its handler may fail one event
-- (max_attempts) and its backoff (base, factor, cap, jitter); unset, the bus's settings
-- apply (the event's max_retries, retry_delay()). With a policy, dead-lettering is per
-- handler: each counts its own failures of an event, and the event is dead when a handler it
-- owes has spent its attempts (complete_attempts; retry_event then runs the handlers that did
-- not succeed, that one included). Rate limits are per handler, not per route: rate-limits.sql.
--
-- Steps: after_handlers names the handlers of the same event that must have succeeded before
-- this route's handler runs; the attempt ignores those not routed to the event at hand
-- (src/bus/steps.ts).
--
-- Pausing: an operator may stop one route's handler for a while without losing its events
-- (pause_route). Unlike is_active = false, which takes the route out of the routing (its
-- events then complete without that handler, as a retired route's do), a paused route stays
-- routed: the attempt does not run its handler and logs the run 'deferred'
-- (src/bus/run-attempt.ts), which complete_attempts treats as a wait: the event goes back to
-- pending, due a little later, no retry spent, its other handlers' successes kept. Resumed,
-- the next attempt runs the handler. The monitor's routes view (monitor_routes, reads.sql)
-- shows every route with its numbers and pauses and resumes it, audited as the other
-- operator actions (docs/monitor.md).

create table feyxa.event_subscriptions (
  id uuid default gen_random_uuid() primary key,
  -- `order.created`, `order.*` (any type under order.) or `*` (every event)
  event_pattern text not null
    check (event_pattern = '*' or event_pattern ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$'),
  -- engine.handler
  handler_name text not null check (handler_name ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'),
  is_active boolean default true not null,
  created_at timestamptz default now() not null,
  updated_at timestamptz default now() not null,
  -- where the handler runs: 'local' (code), 'function' or 'url' (remote), and its address
  target_kind text default 'local' not null,
  target text,
  secret_name text check (secret_name is null or secret_name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  -- the source whose sync keeps the row; null: an operator's
  managed_by text check (managed_by ~ '^[a-z][a-z0-9_]*$'),
  retired_at timestamptz,
  -- the route's retry policy; each null: the bus's setting
  max_attempts int check (max_attempts between 1 and 101),
  retry_base interval check (retry_base >= interval '0'),
  retry_factor numeric check (retry_factor >= 1),
  retry_cap interval check (retry_cap >= interval '0'),
  retry_jitter numeric check (retry_jitter between 0 and 1),
  -- handler names it waits for; never the route's own handler
  after_handlers text[] default '{}' not null,
  paused_at timestamptz,
  constraint event_subscriptions_after_handlers_check check (
    array_position(after_handlers, null) is null
    and array_position(after_handlers, handler_name) is null
    and (cardinality(after_handlers) = 0
         or array_to_string(after_handlers, ',') ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)*$')),
  constraint event_subscriptions_event_pattern_handler_name_key unique (event_pattern, handler_name),
  -- a remote target: an Edge Function's name, or an http(s) URL with a host and no userinfo
  -- (whether the URL may be called is outbound.sql's check, on save)
  constraint event_subscriptions_target_check check (
    (target_kind = 'local' and target is null and secret_name is null)
    or (target_kind = 'function' and target ~ '^[a-z0-9][a-z0-9_-]{0,62}$')
    or (target_kind = 'url' and length(target) <= 2000 and target ~ '^https?://[^[:space:]/?#@]+(/[^[:space:]]*)?$'))
);
alter table feyxa.event_subscriptions enable row level security;
comment on table feyxa.event_subscriptions is 'Routing: an event whose type matches event_pattern is handed to handler_name (engine.handler), while is_active.';
comment on column feyxa.event_subscriptions.target_kind is 'local: code in the dispatcher; function: the Edge Function named by target; url: a webhook at target.';
comment on column feyxa.event_subscriptions.secret_name is 'The webhook_secrets name whose secrets sign deliveries (webhook-signature); null: unsigned.';
comment on column feyxa.event_subscriptions.managed_by is 'The source whose sync_routes keeps this row (marketplace: the handlers'' code; automations: active automations'' triggers); null: an operator''s row, never touched by a sync.';
comment on column feyxa.event_subscriptions.retired_at is 'When its source stopped declaring this route (is_active was then set false); null while declared.';
comment on column feyxa.event_subscriptions.max_attempts is 'How many times this route''s handler may fail one event before the event is dead (null: the event''s max_retries + 1).';
comment on column feyxa.event_subscriptions.retry_base is 'This route''s backoff: base * factor^(failures - 1), at most retry_cap, stretched by up to retry_jitter (each null: the bus''s setting).';
comment on column feyxa.event_subscriptions.after_handlers is 'Handlers of the same event that must have succeeded before this route''s handler runs (ignored when not routed to the event). Written by sync_routes from the code''s `after` for managed rows; an operator''s row is theirs to set.';
comment on column feyxa.event_subscriptions.paused_at is 'Set while an operator has paused the route: its handler does not run, its events wait (runs logged deferred) until resumed. Null: running. Not written by sync_routes.';
grant all on table feyxa.event_subscriptions to service_role;

-- Dispatchers cache the routes; a statement trigger tells them when the table changes.
create or replace function feyxa.notify_subscriptions_changed()
returns trigger
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  perform pg_notify('feyxa_subscriptions', '');
  return null;
end;
$$;
comment on function feyxa.notify_subscriptions_changed() is 'Trigger: NOTIFY feyxa_subscriptions so that dispatchers reload their routing cache.';
revoke all on function feyxa.notify_subscriptions_changed() from public;
grant execute on function feyxa.notify_subscriptions_changed() to service_role;

create trigger event_subscriptions_changed after insert or delete or update or truncate on feyxa.event_subscriptions
  for each statement execute function feyxa.notify_subscriptions_changed();

-- Writes the routes a source declares (src/bus/route-sync.ts). Each may carry `after`, a
-- JSON array of handler names, which becomes the managed route's after_handlers on every
-- sync; a declared set whose `after` forms a cycle is refused whole. One sync of a source
-- runs at a time (an advisory lock held to its commit), and a source is one application's
-- whole list: every process of it syncs the same routes.
-- jit off: the planner counts 100 rows for each set-returning function over the JSON
-- argument and millions for the recursive cycle walk, and on a server built with LLVM
-- (jit on by default) compiled that walk for 400 ms on every sync, over a handful of routes.
create or replace function feyxa.sync_routes(p_source text, p_routes jsonb)
returns jsonb
language plpgsql
set search_path = feyxa, pg_catalog
set jit = off
as $$
declare
  v_added int;
  v_revived int;
  v_retired int;
  v_cycle text;
begin
  if p_source is null or p_source !~ '^[a-z][a-z0-9_]*$' then
    raise exception 'p_source must be a lowercase word, got %', coalesce(p_source, 'null') using errcode = '22023';
  end if;
  if jsonb_typeof(p_routes) is distinct from 'array' then
    raise exception 'p_routes must be a JSON array of {event_pattern, handler_name, after?}' using errcode = '22023';
  end if;
  -- One sync of a source at a time, to its commit: two callers (isolates, an automation
  -- saved twice at once) apply their sets one after the other, never interleaved.
  perform pg_advisory_xact_lock(hashtext('sync_routes'), hashtext(p_source));

  if exists (select 1 from jsonb_to_recordset(p_routes) d(event_pattern text, handler_name text)
             where d.event_pattern is null or d.handler_name is null) then
    raise exception 'every route needs a string event_pattern and handler_name' using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_routes) r
             where r ? 'after' and case when jsonb_typeof(r -> 'after') <> 'array' then true
                                        else exists (select 1 from jsonb_array_elements(r -> 'after') a where jsonb_typeof(a) <> 'string') end) then
    raise exception 'a route''s after must be a JSON array of handler names' using errcode = '22023';
  end if;

  -- A handler that waits, through its prerequisites, for itself would never run.
  with recursive edges as (
    select distinct r ->> 'handler_name' as handler, a as prerequisite
    from jsonb_array_elements(p_routes) r, jsonb_array_elements_text(coalesce(r -> 'after', '[]')) a
  ), walk (start, node, path) as (
    select handler, prerequisite, array[handler, prerequisite] from edges
    union all
    -- simple paths only: a node already on the path (other than the start) ends it
    select w.start, e.prerequisite, w.path || e.prerequisite
    from walk w join edges e on e.handler = w.node
    where w.node <> w.start and not e.prerequisite = any (w.path[2:])
  )
  select array_to_string(path, ' -> ') into v_cycle from walk where node = start order by start, cardinality(path), path limit 1;
  if v_cycle is not null then
    raise exception 'the routes'' after forms a cycle: %', v_cycle using errcode = '22023', detail = 'after';
  end if;

  -- New routes start active. A pair an operator already has stays theirs (do nothing).
  insert into event_subscriptions (event_pattern, handler_name, managed_by, after_handlers)
  select distinct on (d.event_pattern, d.handler_name) d.event_pattern, d.handler_name, p_source, d.after_handlers
  from (select r ->> 'event_pattern' as event_pattern, r ->> 'handler_name' as handler_name,
               array(select distinct a from jsonb_array_elements_text(coalesce(r -> 'after', '[]')) a order by a) as after_handlers
        from jsonb_array_elements(p_routes) r) d
  order by d.event_pattern, d.handler_name
  on conflict (event_pattern, handler_name) do nothing;
  get diagnostics v_added = row_count;

  -- A retired route declared again comes back: the retirement, not an operator, switched it off.
  update event_subscriptions s set is_active = true, retired_at = null, updated_at = now()
  from jsonb_to_recordset(p_routes) d(event_pattern text, handler_name text)
  where s.managed_by = p_source and s.retired_at is not null
    and s.event_pattern = d.event_pattern and s.handler_name = d.handler_name;
  get diagnostics v_revived = row_count;

  -- What a managed route waits for is the code's (its after, sorted; '{}' without one):
  -- written whenever it differs.
  update event_subscriptions s set after_handlers = d.after_handlers, updated_at = now()
  from (select r ->> 'event_pattern' as event_pattern, r ->> 'handler_name' as handler_name,
               array(select distinct a from jsonb_array_elements_text(coalesce(r -> 'after', '[]')) a order by a) as after_handlers
        from jsonb_array_elements(p_routes) r) d
  where s.managed_by = p_source and s.event_pattern = d.event_pattern and s.handler_name = d.handler_name
    and s.after_handlers is distinct from d.after_handlers;

  -- Routes the source no longer declares stop routing. Declared ones keep is_active as
  -- the operator left it: nothing here writes it.
  update event_subscriptions s set is_active = false, retired_at = now(), updated_at = now()
  where s.managed_by = p_source and s.retired_at is null
    and not exists (select 1 from jsonb_to_recordset(p_routes) d(event_pattern text, handler_name text)
                    where d.event_pattern = s.event_pattern and d.handler_name = s.handler_name);
  get diagnostics v_retired = row_count;

  return jsonb_build_object('added', v_added, 'revived', v_revived, 'retired', v_retired);
end;
$$;
comment on function feyxa.sync_routes(text,jsonb) is 'Makes the routes p_source manages equal to p_routes ([{event_pattern, handler_name, after?: [handler names]}]): adds the missing ones (active), revives retired ones declared again, writes each managed route''s after_handlers, retires (is_active false, retired_at) the ones no longer declared; never writes is_active of a declared route, nor an operator''s row (managed_by null). Refuses an after that forms a cycle. Idempotent; returns {added, revived, retired}.';
revoke all on function feyxa.sync_routes(text,jsonb) from public;
grant execute on function feyxa.sync_routes(text,jsonb) to service_role;

-- Sets the retry policy of a handler's routes (an operator's call; a sync never touches it),
-- checking the values as the table's constraints do, with a message naming the field.
create or replace function feyxa.set_route_policy(
  p_handler_name text, p_max_attempts int default null, p_retry_base interval default null, p_retry_factor numeric default null,
  p_retry_cap interval default null, p_retry_jitter numeric default null, p_event_pattern text default null)
returns int
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_count int;
begin
  if p_max_attempts is not null and p_max_attempts not between 1 and 101 then
    raise exception using errcode = '22023', message = 'max_attempts must be between 1 and 101', detail = 'max_attempts';
  end if;
  if p_retry_factor is not null and p_retry_factor < 1 then
    raise exception using errcode = '22023', message = 'retry_factor must be at least 1', detail = 'retry_factor';
  end if;
  if p_retry_jitter is not null and p_retry_jitter not between 0 and 1 then
    raise exception using errcode = '22023', message = 'retry_jitter must be between 0 and 1', detail = 'retry_jitter';
  end if;
  if p_retry_base < interval '0' or p_retry_cap < interval '0' then
    raise exception using errcode = '22023', message = 'retry_base and retry_cap must not be negative', detail = 'retry_base';
  end if;
  update event_subscriptions set max_attempts = p_max_attempts, retry_base = p_retry_base, retry_factor = p_retry_factor,
                                 retry_cap = p_retry_cap, retry_jitter = p_retry_jitter, updated_at = now()
  where handler_name = p_handler_name and (p_event_pattern is null or event_pattern = p_event_pattern);
  get diagnostics v_count = row_count;
  if v_count = 0 then
    raise exception using errcode = 'P0002', message = format('no route of handler %s', p_handler_name), detail = 'handler_name';
  end if;
  return v_count;
end;
$$;
comment on function feyxa.set_route_policy(text,integer,interval,numeric,interval,numeric,text) is 'Sets the retry policy of a handler''s routes (all of them, or the one of p_event_pattern); nulls fall back to the bus''s settings. Returns how many routes changed.';
revoke all on function feyxa.set_route_policy(text,integer,interval,numeric,interval,numeric,text) from public;
grant execute on function feyxa.set_route_policy(text,integer,interval,numeric,interval,numeric,text) to service_role;

-- Pause or resume one route (pattern, handler): the operator actions' shape
-- (operator_begin_action / operator_finish_action, operator.sql), audited, idempotent per
-- action id; no change when it already is so. The trigger above tells the dispatchers.
create or replace function feyxa.set_route_paused(p_action_id uuid, p_event_pattern text, p_handler_name text, p_paused boolean)
returns jsonb
language plpgsql security definer
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
  if not p_paused then
    perform unpark_events(p_handler_name);
  end if;
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'paused', p_paused));
end;
$$;
comment on function feyxa.set_route_paused(uuid,text,text,boolean) is 'Internal to pause_route and resume_route: sets or clears event_subscriptions.paused_at of one route, audited (monitor_actions), idempotent per action id. Security definer: API roles cannot write event_subscriptions nor the audit trail; operator_begin_action checks the caller first.';
revoke all on function feyxa.set_route_paused(uuid,text,text,boolean) from public;

create or replace function feyxa.pause_route(p_action_id uuid, p_event_pattern text, p_handler_name text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select set_route_paused(p_action_id, p_event_pattern, p_handler_name, true) $$;
comment on function feyxa.pause_route(uuid,text,text) is 'Operator action: the route''s handler stops running; its events wait, parked (no attempt, no retry spent), until resume_route. Audited, idempotent per action id. Security definer as set_route_paused.';
revoke all on function feyxa.pause_route(uuid,text,text) from public;
grant execute on function feyxa.pause_route(uuid,text,text) to authenticated, service_role;

create or replace function feyxa.resume_route(p_action_id uuid, p_event_pattern text, p_handler_name text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select set_route_paused(p_action_id, p_event_pattern, p_handler_name, false) $$;
comment on function feyxa.resume_route(uuid,text,text) is 'Operator action: a paused route''s handler runs again: the events parked for it are due at once. Audited, idempotent per action id. Security definer as set_route_paused.';
revoke all on function feyxa.resume_route(uuid,text,text) from public;
grant execute on function feyxa.resume_route(uuid,text,text) to authenticated, service_role;
