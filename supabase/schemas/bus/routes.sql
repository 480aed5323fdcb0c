-- [20261123000001]

create table feyxa.event_subscriptions (
  id uuid default gen_random_uuid() primary key,
  -- `order.created`, `order.*` (any type under order.) or `*` (every event).
  event_pattern text not null check ((event_pattern = '*'::text) or (event_pattern ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$'::text)),
  handler_name text not null check (handler_name ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'::text),
  is_active boolean default true not null,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  -- [20261123600000]
  -- Remote handlers: a subscription may route to another Edge Function (seed 003's
  -- handler_function) or to any HTTPS URL (seed 002's n8n webhook) instead of code in the
  -- dispatcher. The handler name stays the run's identity in event_handlers_log; the
  -- dispatcher delivers the event as a Standard Webhooks request (src/core/remote/), with
  -- the same timeout, retry, log and skip-on-retry rules as a local handler.
  --
  -- Signing secrets never leave the database: the dispatcher sends the message to sign and
  -- gets the signatures back (webhook_delivery_plan). They live in Supabase Vault where it
  -- is installed, else in webhook_secrets, a table no API role can read.
  target_kind text default 'local' not null,
  -- [20261123600000]
  target text,
  -- [20261123600000]
  secret_name text check ((secret_name is null) or (secret_name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'::text)),
  -- [20261127400000]
  -- Routes written once, in code: a handler declares the event patterns it reacts to
  -- (Handler.on, src/bus/define-handler.ts) and sync_routes writes them here, at start and
  -- on a function's first call (docs/deploy.md). event_subscriptions keeps what only the
  -- database can hold: the operators' toggles and rows (remote handlers, local routes they add).
  --
  -- managed_by names who owns a row: a source that sync_routes keeps (the marketplace's code,
  -- the automations table), or null for an operator's row, which no sync ever touches.
  -- A managed route its source no longer declares is RETIRED (inactive, retired_at set), not
  -- deleted: the monitor and an operator still see what it was and when it stopped; declared
  -- again, it comes back active.
  managed_by text check (managed_by ~ '^[a-z][a-z0-9_]*$'::text),
  -- [20261127400000]
  retired_at timestamp with time zone,
  -- [20261128000004]
  -- Retry policies per route and rate limits (issue 14, items 6 and 7).
  --
  -- A route (a row of event_subscriptions) may carry its own retry policy: how many times
  -- its handler may fail one event (max_attempts), and its backoff (base, factor, cap,
  -- jitter). Unset, the bus's settings apply as before: the event's max_retries and
  -- retry_delay(). Dead-lettering is then per handler: each counts its own failures of an
  -- event, and the event is dead when a handler it owes has spent its attempts (the
  -- operator's retry_event runs the handlers that did not succeed, that one included).
  --
  -- A rate limit is a token bucket shared by every dispatcher (rate_limits: a rate per
  -- second and a burst). A handler that names one takes a token before it runs
  -- (take_rate_token); when the bucket is empty it does not run: its run is recorded as
  -- 'deferred', with the wait, and an attempt whose only setback was such a wait goes back
  -- to pending, due when the wait ends, without spending a retry.
  max_attempts integer check ((max_attempts >= 1) and (max_attempts <= 101)),
  -- [20261128000004]
  retry_base interval check (retry_base >= '00:00:00'::interval),
  -- [20261128000004]
  retry_factor numeric check (retry_factor >= (1)::numeric),
  -- [20261128000004]
  retry_cap interval check (retry_cap >= '00:00:00'::interval),
  -- [20261128000004]
  retry_jitter numeric check ((retry_jitter >= (0)::numeric) and (retry_jitter <= (1)::numeric)),
  -- [20261128100000]
  -- What a route waits for: handler names, which the attempt ignores when they are not
  -- routed to the event at hand. Never the route's own handler.
  after_handlers text[] default '{}'::text[] not null,
  -- [20261129100001]
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
  paused_at timestamp with time zone,
  constraint event_subscriptions_after_handlers_check check ((array_position(after_handlers, null::text) is null) and (array_position(after_handlers, handler_name) is null) and ((cardinality(after_handlers) = 0) or (array_to_string(after_handlers, ','::text) ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)*$'::text))),
  constraint event_subscriptions_event_pattern_handler_name_key unique (event_pattern, handler_name),
  constraint event_subscriptions_target_check check (((target_kind = 'local'::text) and (target is null) and (secret_name is null)) or ((target_kind = 'function'::text) and (target ~ '^[a-z0-9][a-z0-9_-]{0,62}$'::text)) or ((target_kind = 'url'::text) and (length(target) <= 2000) and (target ~ '^https?://[^[:space:]/?#@]+(/[^[:space:]]*)?$'::text)))
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

-- [20261123000005]
-- Dispatchers cache the subscriptions; tell them when they change.
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

-- [20261123000005]
create trigger event_subscriptions_changed after insert or delete or update or truncate on feyxa.event_subscriptions for each statement execute function feyxa.notify_subscriptions_changed();

-- [20261128100000]
-- As in 20261127400000, and each route may carry `after` (a JSON array of handler names):
-- a managed route's after_handlers become what its source declares, on every sync. A
-- declared set whose `after` forms a cycle is refused whole.
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

-- [20261128000004]
create or replace function feyxa.set_route_policy(p_handler_name text, p_max_attempts integer default null, p_retry_base interval default null, p_retry_factor numeric default null, p_retry_cap interval default null, p_retry_jitter numeric default null, p_event_pattern text default null)
returns integer
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

-- [20261129100001]
-- Pause or resume one route (pattern, handler). Audited, idempotent per action id; no
-- change when it already is so. The trigger on event_subscriptions tells the dispatchers.
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
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'paused', p_paused));
end;
$$;
comment on function feyxa.set_route_paused(uuid,text,text,boolean) is 'Internal to pause_route and resume_route: sets or clears event_subscriptions.paused_at of one route, audited (monitor_actions), idempotent per action id. Security definer: API roles cannot write event_subscriptions nor the audit trail; operator_begin_action checks the caller first.';
revoke all on function feyxa.set_route_paused(uuid,text,text,boolean) from public;

-- [20261129100001]
create or replace function feyxa.pause_route(p_action_id uuid, p_event_pattern text, p_handler_name text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select set_route_paused(p_action_id, p_event_pattern, p_handler_name, true) $$;
comment on function feyxa.pause_route(uuid,text,text) is 'Operator action: the route''s handler stops running; its events wait (deferred, no retry spent) until resume_route. Audited, idempotent per action id. Security definer as set_route_paused.';
revoke all on function feyxa.pause_route(uuid,text,text) from public;
grant execute on function feyxa.pause_route(uuid,text,text) to authenticated, service_role;

-- [20261129100001]
create or replace function feyxa.resume_route(p_action_id uuid, p_event_pattern text, p_handler_name text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select set_route_paused(p_action_id, p_event_pattern, p_handler_name, false) $$;
comment on function feyxa.resume_route(uuid,text,text) is 'Operator action: a paused route''s handler runs again, from the next attempt of each waiting event. Audited, idempotent per action id. Security definer as set_route_paused.';
revoke all on function feyxa.resume_route(uuid,text,text) from public;
grant execute on function feyxa.resume_route(uuid,text,text) to authenticated, service_role;
