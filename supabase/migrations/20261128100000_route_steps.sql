-- Steps within a fan-out: a route may run only after other handlers of the same event
-- have succeeded (Handler.after, `defineHandler(name, run, { on, after: [...] })`), so the
-- handlers of one event form a small DAG instead of a flat set. The attempt (runAttempt,
-- src/bus/run-attempt.ts) orders them; the database keeps what each route waits for, so
-- operators see it and can set it on their own rows (a remote handler after a local one).
--
-- A handler whose prerequisite failed in the attempt does not run: it is logged 'waiting'
-- (the prerequisite's failure already fails the event, whose next attempt runs the
-- prerequisite again, then it). One whose prerequisite refused the event (NonRetriableError)
-- is logged 'blocked': it never runs for that event. Neither is a failure of its own, so
-- complete_attempts moves the event exactly as before (it counts 'failed' runs only).

-- What a route waits for: handler names, which the attempt ignores when they are not
-- routed to the event at hand. Never the route's own handler.
alter table feyxa.event_subscriptions
  add column if not exists after_handlers text[] not null default '{}';
alter table feyxa.event_subscriptions
  add constraint event_subscriptions_after_handlers_check check (
    array_position(after_handlers, null) is null
    and array_position(after_handlers, handler_name) is null
    and (cardinality(after_handlers) = 0
         or array_to_string(after_handlers, ',') ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)*$'));
comment on column feyxa.event_subscriptions.after_handlers is
  'Handlers of the same event that must have succeeded before this route''s handler runs (ignored when not routed to the event). Written by sync_routes from the code''s `after` for managed rows; an operator''s row is theirs to set.';

-- The two statuses of a run that did not happen because of a prerequisite, added to those
-- of 20261128000004 (deferred: a rate limit's wait). The check is replaced NOT VALID (no
-- scan under this migration's lock); the rows already there passed the narrower check, and
-- 20261128100001 validates it without blocking writers.
alter table feyxa.event_handlers_log drop constraint if exists event_handlers_log_status_check;
alter table feyxa.event_handlers_log
  add constraint event_handlers_log_status_check
  check (status in ('success', 'failed', 'skipped', 'deferred', 'waiting', 'blocked')) not valid;
comment on table feyxa.event_handlers_log is
  'One row per handler per attempt of an event: success, failed (with the error), skipped (it had already succeeded), deferred (a rate limit''s wait), waiting (a prerequisite did not succeed in this attempt) or blocked (a prerequisite refused the event).';

-- As in 20261127400000, and each route may carry `after` (a JSON array of handler names):
-- a managed route's after_handlers become what its source declares, on every sync. A
-- declared set whose `after` forms a cycle is refused whole.
create or replace function feyxa.sync_routes(p_source text, p_routes jsonb)
returns jsonb
language plpgsql
set search_path = feyxa, pg_catalog
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
comment on function feyxa.sync_routes(text, jsonb) is
  'Makes the routes p_source manages equal to p_routes ([{event_pattern, handler_name, after?: [handler names]}]): adds the missing ones (active), revives retired ones declared again, writes each managed route''s after_handlers, retires (is_active false, retired_at) the ones no longer declared; never writes is_active of a declared route, nor an operator''s row (managed_by null). Refuses an after that forms a cycle. Idempotent; returns {added, revived, retired}.';

-- The monitor's event detail shows what each routed handler waits for: handler -> its
-- routed prerequisites (those not routed to the type are ignored, as by the attempt). Who
-- may see it is who may see the routing: it reads through monitor_routed_handlers, which
-- answers nothing to a signed-in user who is neither an operator nor reads any tenant.
create or replace function feyxa.monitor_route_steps(p_event_type text)
returns jsonb
language sql stable
security definer
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
comment on function feyxa.monitor_route_steps(text) is
  'The steps of an event type: {handler: [the routed handlers it runs after]} for its routed handlers that wait for some; empty for a signed-in user who may not see the routing.';
revoke all on function feyxa.monitor_route_steps(text) from public, anon;
grant execute on function feyxa.monitor_route_steps(text) to authenticated, service_role;
