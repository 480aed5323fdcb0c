-- Emitting: the one way into the bus. Business code calls emit_event (emit_events for a
-- batch) in the same transaction as its write: a rolled-back write emits nothing, and a
-- committed one has its event, stored with its event_queue row in one statement. The
-- dispatchers are woken at commit (wake.sql). From TypeScript: Bus.emit (src/bus/bus.ts).
--
-- Idempotency. Every event has a unique idempotency key, and an emit whose key exists
-- inserts nothing and answers with the existing event, a duplicate. Concurrent emits of one
-- key are safe: the unique index makes the later ones wait for the first and then see its
-- row. An emitter that gives no key gets `event_type:aggregate_id` for the types listed in
-- event_bus_settings.once_per_aggregate (a second order.created for one order is a
-- duplicate), else a fresh random key (a second payment.failed is a new fact). A key
-- outlives its event: the retention purge keeps the key of each completed event it deletes
-- in purged_event_keys until idempotency_horizon (retention.sql, settings.sql), and an emit
-- of a kept key is a duplicate of the purged event; else a buyer's re-asked order.created
-- (key order.created:<order id>) would run again and mail a second confirmation.
--
-- Flow control (docs/flow-control.md; the options are checked by assert_flow_input and
-- assert_flow_element, flow-control.sql), all optional and free when unused:
--   p_deliver_at    not before this time (null or past: at once)
--   p_priority      0 to 1000 seconds of head start (null: the type's, else 0)
--   p_ordering_key  the line to wait in (null: type:aggregate when the type is configured
--                   ordered, else none). Naming a key orders the event whatever its type.
-- An ordered event takes its place in its line under the key's row lock (ordering_keys),
-- held until the emitter commits, so concurrent producers' events line up in the order of
-- their commits; every event of a line but the first is held. With fairness on, the queue
-- row carries its tenant's lane.
--
-- The tenant (p_tenant_id) is the application's partition key (the marketplace's store);
-- emit_events reads it from an element's `tenant_id`, or from `store_id`, its name in
-- 0.1.0, when tenant_id is absent.

-- Checks one event's fields; raises invalid_parameter_value (22023) naming the field,
-- or program_limit_exceeded (54000) for an oversized payload. p_where prefixes the
-- field name, e.g. 'events[3].' in a batch.
create or replace function feyxa.assert_event_input(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_payload jsonb, p_idempotency_key text,
  p_where text default '')
returns void
language plpgsql immutable
set search_path = feyxa, pg_catalog
as $$
begin
  if p_event_type is null or not event_type_is_valid(p_event_type) then
    raise exception using errcode = '22023', message = format('%sevent_type must be lowercase words joined by dots, like order.created (got %s)', p_where, coalesce(quote_literal(left(p_event_type, 100)), 'null')),
      detail = p_where || 'event_type';
  end if;
  if p_aggregate_type is null or p_aggregate_type !~ '^[a-z][a-z0-9_]{0,62}$' then
    raise exception using errcode = '22023', message = format('%saggregate_type must be a lowercase word, like order (got %s)', p_where, coalesce(quote_literal(left(p_aggregate_type, 100)), 'null')),
      detail = p_where || 'aggregate_type';
  end if;
  if p_aggregate_id is null then
    raise exception using errcode = '22023', message = p_where || 'aggregate_id is required', detail = p_where || 'aggregate_id';
  end if;
  if p_payload is null or jsonb_typeof(p_payload) <> 'object' then
    raise exception using errcode = '22023', message = p_where || 'payload must be a JSON object', detail = p_where || 'payload';
  end if;
  if octet_length(p_payload::text) > 65536 then
    raise exception using errcode = '54000', message = format('%spayload is %s bytes; the limit is 65536', p_where, octet_length(p_payload::text)),
      detail = p_where || 'payload';
  end if;
  if p_idempotency_key is not null and length(p_idempotency_key) not between 1 and 200 then
    raise exception using errcode = '22023', message = p_where || 'idempotency_key must be 1 to 200 characters', detail = p_where || 'idempotency_key';
  end if;
end;
$$;
comment on function feyxa.assert_event_input(text,text,uuid,jsonb,text,text) is 'Validates an event before it is stored; the error names the field (in DETAIL too) so callers can report it.';
revoke all on function feyxa.assert_event_input(text,text,uuid,jsonb,text,text) from public;
grant execute on function feyxa.assert_event_input(text,text,uuid,jsonb,text,text) to service_role;

-- The key an event gets when its emitter gives none (see above), for emit_events;
-- emit_event_report computes the same inline.
create or replace function feyxa.default_idempotency_key(p_event_type text, p_aggregate_id uuid)
returns text
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select case when p_event_type = any (s.once_per_aggregate)
              then p_event_type || ':' || p_aggregate_id
              else p_event_type || ':' || gen_random_uuid() end
  from event_bus_settings s
$$;
comment on function feyxa.default_idempotency_key(text,uuid) is 'Idempotency key for an event emitted without one: type:aggregate_id when the type is once-per-aggregate, else type:<random uuid>.';
revoke all on function feyxa.default_idempotency_key(text,uuid) from public;
grant execute on function feyxa.default_idempotency_key(text,uuid) to service_role;

-- Emits one event and says whether it was new. It is what producers pay on every
-- business write, so it does little per call: valid input (the usual case) is checked in
-- one expression, and only input that fails it goes through assert_event_input for the
-- precise error; the settings, the insert and the queue row are one statement; it returns
-- one row, not a set; the NOTIFY comes from the trigger at commit, the pg_net wake-up from
-- here, only where a URL is set, for an event due now and not held.
-- A key it inserted that the purge had kept is taken back (the row never was visible to
-- anyone else) and the purged event is the answer. A line it opened for an event that
-- turns out a duplicate is forgotten again.
--   plan_cache_mode = force_generic_plan: PL/pgSQL's plan cache tries five custom plans
--     before a generic one and keeps planning a custom plan on every call while the
--     generic plan's estimated cost is not lower, which for this insert (twenty arguments)
--     it never is: with pg_stat_statements.track_planning on, 1,000 emits made 1,000 plans
--     of it, 208 µs of planning each, a third of the emit's time on one idle connection
--     (PostgreSQL 17). Nothing in the plan depends on the arguments (one row inserted,
--     lookups by key). Measured: 578 -> 318 µs per emit.
--   jit = off: on a table not analyzed yet (a new project) the planner's guesses for the
--     ordering line's lookup made Debian's PostgreSQL 15, built with LLVM, JIT-compile
--     this function's statements on every ordered emit (19 ms each, npm run bench's flow
--     rows); the setting costs a few microseconds a call.
create or replace function feyxa.emit_event_report(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid, p_payload jsonb,
  p_idempotency_key text default null,
  p_deliver_at timestamptz default null,
  p_priority int default null,
  p_ordering_key text default null,
  out event_id uuid, out inserted boolean)
returns record
language plpgsql security definer
set search_path = feyxa, pg_catalog
set jit = off
set plan_cache_mode = force_generic_plan
as $$
declare
  v_url      text;
  v_checked  text;  -- the event's key when it may have been remembered, else null
  v_kept     uuid;
  v_type     event_type_settings;
  v_priority int;
  v_line     text;
  v_seq      bigint;
  v_held     boolean := false;
begin
  if p_event_type is null or not event_type_is_valid(p_event_type)
     or p_aggregate_type is null or p_aggregate_type !~ '^[a-z][a-z0-9_]{0,62}$'
     or p_aggregate_id is null or p_payload is null or jsonb_typeof(p_payload) <> 'object'
     or octet_length(p_payload::text) > 65536
     or length(p_idempotency_key) not between 1 and 200 then
    perform assert_event_input(p_event_type, p_aggregate_type, p_aggregate_id, p_payload, p_idempotency_key);
  end if;
  if p_priority is not null or p_ordering_key is not null or p_deliver_at is not null then
    perform assert_flow_input(p_deliver_at, p_priority, p_ordering_key, '');
  end if;

  select * into v_type from event_type_settings s where s.event_type = p_event_type;
  v_priority := coalesce(p_priority, v_type.priority, 0);
  if p_ordering_key is not null or v_type.ordered then
    -- The event's place in its line, under the key's lock (held until commit).
    v_line := coalesce(p_ordering_key, p_aggregate_type || ':' || p_aggregate_id);
    insert into ordering_keys as k (ordering_key, last_seq) values (v_line, 1)
    on conflict (ordering_key) do update set last_seq = k.last_seq + 1
    returning k.last_seq into v_seq;
    -- A key's row exists exactly while its line has events in the queue (the release
    -- forgets an empty line under the same lock): a key we did not create has a head.
    v_held := v_seq > 1;
  end if;

  -- The event and its queue row in one statement; the row carries its tenant's lane when fairness is on.
  with settings as (
    select default_max_retries, once_per_aggregate, functions_url, tenant_fairness,
           coalesce(p_idempotency_key, case when p_event_type = any (once_per_aggregate) then p_event_type || ':' || p_aggregate_id end) as checked_key
    from event_bus_settings
  ), ins as (
    insert into events_log (event_type, aggregate_type, aggregate_id, tenant_id, payload, idempotency_key, max_retries,
                            deliver_at, priority, ordering_key, ordering_seq)
    select p_event_type, p_aggregate_type, p_aggregate_id, p_tenant_id, p_payload,
           coalesce(s.checked_key, p_event_type || ':' || gen_random_uuid()), s.default_max_retries,
           p_deliver_at, v_priority, v_line, v_seq
    from settings s
    on conflict (idempotency_key) do nothing
    returning id, created_at
  ), queued as (
    -- A prioritised event is due its priority earlier, its real due time kept in not_before
    -- (flow-control.sql); a held one waits at infinity for its release, its delivery time kept
    -- in not_before for then.
    insert into event_queue as q (event_id, due_at, not_before, priority, held, ordering_key, ordering_seq, tenant_id)
    select ins.id,
           case when v_held then 'infinity' else due.at - make_interval(secs => v_priority) end,
           case when v_held then p_deliver_at when v_priority <> 0 then due.at end,
           v_priority, v_held, v_line, v_seq, case when s.tenant_fairness then coalesce(p_tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) end
    from ins, settings s, lateral (select greatest(ins.created_at, coalesce(p_deliver_at, ins.created_at)) as at) due
    returning q.event_id
  )
  select queued.event_id, s.functions_url, s.checked_key into event_id, v_url, v_checked
  from settings s left join queued on true;

  inserted := event_id is not null;
  if inserted and v_checked is not null then
    select k.event_id into v_kept from purged_event_keys k where k.idempotency_key = v_checked;
    if v_kept is not null then
      -- Our row was never visible to anyone else: it goes as if never inserted.
      delete from event_queue q where q.event_id = emit_event_report.event_id;
      delete from events_log e where e.id = emit_event_report.event_id;
      event_id := v_kept;
      inserted := false;
    end if;
  end if;
  if not inserted and v_seq = 1 then
    -- A line we opened for an event that is not new after all: it has nothing in it.
    delete from ordering_keys k where k.ordering_key = v_line;
  end if;
  if v_kept is not null then
    return;
  end if;
  if inserted then
    if v_url is not null and not v_held and (p_deliver_at is null or p_deliver_at <= now()) then
      perform wake_dispatchers_by_http(event_id);
    end if;
  else
    -- A duplicate: the event in the log, or, if the purge took it, its kept key (one
    -- snapshot sees exactly one of the two, since the purge moves it in one statement).
    select coalesce((select e.id from events_log e where e.idempotency_key = v_checked),
                    (select k.event_id from purged_event_keys k where k.idempotency_key = v_checked))
    into event_id;
  end if;
end;
$$;
comment on function feyxa.emit_event_report(text,text,uuid,uuid,jsonb,text,timestamp with time zone,integer,text) is 'emit_event that also reports whether the event is new (inserted) or a duplicate of an existing idempotency key, or of one kept after its event was purged (event_id is then the purged event''s). Listeners are woken at commit.';
revoke all on function feyxa.emit_event_report(text,text,uuid,uuid,jsonb,text,timestamp with time zone,integer,text) from public;
grant execute on function feyxa.emit_event_report(text,text,uuid,uuid,jsonb,text,timestamp with time zone,integer,text) to service_role;

-- The entry point: emit_event_report's event id alone.
create or replace function feyxa.emit_event(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid, p_payload jsonb,
  p_idempotency_key text default null,
  p_deliver_at timestamptz default null,
  p_priority int default null,
  p_ordering_key text default null)
returns uuid
language sql security definer
set search_path = feyxa, pg_catalog
as $$
  select event_id from emit_event_report(p_event_type, p_aggregate_type, p_aggregate_id, p_tenant_id, p_payload,
                                         p_idempotency_key, p_deliver_at, p_priority, p_ordering_key)
$$;
comment on function feyxa.emit_event(text,text,uuid,uuid,jsonb,text,timestamp with time zone,integer,text) is 'THE entry point of the bus: stores an event in the caller''s transaction and wakes the dispatchers; optionally not before p_deliver_at, with a priority (seconds of head start), in an ordering key''s line. Returns its id (the existing one for a duplicate idempotency key).';
revoke all on function feyxa.emit_event(text,text,uuid,uuid,jsonb,text,timestamp with time zone,integer,text) from public;
grant execute on function feyxa.emit_event(text,text,uuid,uuid,jsonb,text,timestamp with time zone,integer,text) to service_role;

-- Emits many events at once, for bulk producers. p_events is a JSON array of
-- {event_type, aggregate_type, aggregate_id, tenant_id?, payload?, idempotency_key?,
-- deliver_at? | delay? (seconds from now), priority?, ordering_key?}. All or nothing: one
-- invalid element rejects the batch, naming it (events[i].field). A batch without
-- flow-control options or ordered types is stored in one statement, its keys computed
-- first (default keys may be random) so that the answer finds every event; one with them
-- goes element by element, in array order, through emit_event_report (each line's lock and
-- place). One wake-up for the whole batch (the NOTIFY at commit, the pg_net wake-up here).
-- Its statements settle on their generic plans after the first five calls by themselves.
--   jit = off: the planner counts 100 rows for each set-returning function over the JSON
--     argument and may judge a statement worth JIT-compiling (on a server built with LLVM,
--     as Debian's PostgreSQL 15, jit is on by default); no batch runs long enough for JIT
--     to pay off.
create or replace function feyxa.emit_events(p_events jsonb)
returns table(idx integer, event_id uuid, inserted boolean)
language plpgsql security definer
set search_path = feyxa, pg_catalog
set jit = off
as $$
declare
  v_bad      record;
  v_keys     text[];
  v_new_ids  uuid[];
  v_undone   uuid[];
  v_field    text;
  v_one      record;
begin
  if p_events is null or jsonb_typeof(p_events) <> 'array' then
    raise exception using errcode = '22023', message = 'events must be a JSON array', detail = 'events';
  end if;
  if jsonb_array_length(p_events) > 10000 then
    raise exception using errcode = '54000', message = format('a batch holds at most 10000 events (got %s)', jsonb_array_length(p_events)), detail = 'events';
  end if;

  -- Validate every element first; report the first bad one by its index.
  for v_bad in
    select (e.ord - 1)::int as i, e.v
    from jsonb_array_elements(p_events) with ordinality as e(v, ord)
    where jsonb_typeof(e.v) <> 'object'
       or not coalesce(event_type_is_valid(e.v ->> 'event_type'), false)
       or coalesce(e.v ->> 'aggregate_type', '') !~ '^[a-z][a-z0-9_]{0,62}$'
       or coalesce(e.v ->> 'aggregate_id', '') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$'
       or coalesce(e.v ->> 'tenant_id', e.v ->> 'store_id', '00000000-0000-0000-0000-000000000000') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$'
       or jsonb_typeof(coalesce(e.v -> 'payload', '{}')) <> 'object'
       or octet_length(coalesce(e.v -> 'payload', '{}')::text) > 65536
       or (e.v ? 'idempotency_key' and length(coalesce(e.v ->> 'idempotency_key', '')) not between 1 and 200)
    order by e.ord limit 1
  loop
    if jsonb_typeof(v_bad.v) <> 'object' then
      raise exception using errcode = '22023', message = format('events[%s] must be a JSON object', v_bad.i), detail = format('events[%s]', v_bad.i);
    end if;
    if coalesce(v_bad.v ->> 'aggregate_id', '') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$' then
      raise exception using errcode = '22023', message = format('events[%s].aggregate_id must be a UUID', v_bad.i), detail = format('events[%s].aggregate_id', v_bad.i);
    end if;
    if coalesce(v_bad.v ->> 'tenant_id', v_bad.v ->> 'store_id', '00000000-0000-0000-0000-000000000000') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$' then
      v_field := case when v_bad.v ? 'tenant_id' then 'tenant_id' else 'store_id' end;
      raise exception using errcode = '22023', message = format('events[%s].%s must be a UUID or absent', v_bad.i, v_field), detail = format('events[%s].%s', v_bad.i, v_field);
    end if;
    perform assert_event_input(v_bad.v ->> 'event_type', v_bad.v ->> 'aggregate_type', (v_bad.v ->> 'aggregate_id')::uuid,
                               coalesce(v_bad.v -> 'payload', '{}'), v_bad.v ->> 'idempotency_key', format('events[%s].', v_bad.i));
  end loop;

  -- With flow-control options or an ordered type: one element at a time, in array order.
  if exists (select 1 from jsonb_array_elements(p_events) e(v)
             where e.v ?| array['deliver_at', 'delay', 'priority', 'ordering_key'])
     or exists (select 1 from jsonb_array_elements(p_events) e(v)
                join event_type_settings s on s.event_type = e.v ->> 'event_type'
                where s.ordered or s.priority is not null) then
    -- Their options checked first, all of them: the batch is all or nothing.
    perform assert_flow_element(e.v, format('events[%s].', e.ord - 1))
    from jsonb_array_elements(p_events) with ordinality as e(v, ord)
    where e.v ?| array['deliver_at', 'delay', 'priority', 'ordering_key']
    order by e.ord;
    for v_one in
      select (e.ord - 1)::int as i, e.v from jsonb_array_elements(p_events) with ordinality as e(v, ord) order by e.ord
    loop
      select r.event_id, r.inserted into event_id, inserted
      from emit_event_report(v_one.v ->> 'event_type', v_one.v ->> 'aggregate_type', (v_one.v ->> 'aggregate_id')::uuid,
                             (coalesce(v_one.v ->> 'tenant_id', v_one.v ->> 'store_id'))::uuid, coalesce(v_one.v -> 'payload', '{}'),
                             v_one.v ->> 'idempotency_key',
                             coalesce((v_one.v ->> 'deliver_at')::timestamptz, now() + make_interval(secs => (v_one.v ->> 'delay')::double precision)),
                             (v_one.v ->> 'priority')::int, v_one.v ->> 'ordering_key') r;
      idx := v_one.i;
      return next;
    end loop;
    return;
  end if;

  -- Keys first (default keys may be random), so that the lookup below finds every event.
  select array_agg(coalesce(e.v ->> 'idempotency_key', default_idempotency_key(e.v ->> 'event_type', (e.v ->> 'aggregate_id')::uuid)) order by e.ord)
  into v_keys
  from jsonb_array_elements(p_events) with ordinality as e(v, ord);

  with ins as (
    insert into events_log (event_type, aggregate_type, aggregate_id, tenant_id, payload, idempotency_key, max_retries)
    select e.v ->> 'event_type', e.v ->> 'aggregate_type', (e.v ->> 'aggregate_id')::uuid, (coalesce(e.v ->> 'tenant_id', e.v ->> 'store_id'))::uuid,
           coalesce(e.v -> 'payload', '{}'), v_keys[e.ord], (select default_max_retries from event_bus_settings)
    from jsonb_array_elements(p_events) with ordinality as e(v, ord)
    order by e.ord
    on conflict (idempotency_key) do nothing
    returning id, created_at, tenant_id
  ), queued as (
    insert into event_queue (event_id, due_at, tenant_id)
    select ins.id, ins.created_at, case when s.tenant_fairness then coalesce(ins.tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) end
    from ins, event_bus_settings s
  )
  select array_agg(ins.id) into v_new_ids from ins;

  -- Keys the purge kept, among the events just inserted: undone, as in emit_event_report.
  if v_new_ids is not null and exists (select 1 from purged_event_keys p where p.idempotency_key = any (v_keys)) then
    with remembered as (
      select e.id from events_log e
      where e.id = any (v_new_ids)
        and e.idempotency_key in (select p.idempotency_key from purged_event_keys p where p.idempotency_key = any (v_keys))
    ), unqueued as (
      delete from event_queue q using remembered r where q.event_id = r.id
    ), undone as (
      delete from events_log e using remembered r where e.id = r.id returning e.id
    )
    select array_agg(undone.id) into v_undone from undone;
    if v_undone is not null then
      select array_agg(n.id) into v_new_ids from unnest(v_new_ids) as n(id) where n.id <> all (v_undone);
    end if;
  end if;
  if v_new_ids is not null then
    perform wake_dispatchers_by_http(v_new_ids[1]);
  end if;

  -- Each element's event and whether it is new.
  return query
  select (k.ord - 1)::int, x.id,
         n.id is not null and row_number() over (partition by k.key order by k.ord) = 1
  from unnest(v_keys) with ordinality as k(key, ord)
  cross join lateral (select coalesce((select e.id from events_log e where e.idempotency_key = k.key),
                                      (select p.event_id from purged_event_keys p where p.idempotency_key = k.key)) as id) x
  left join unnest(v_new_ids) as n(id) on n.id = x.id
  order by k.ord;
end;
$$;
comment on function feyxa.emit_events(jsonb) is 'Batch emit_event for bulk producers: each element {event_type, aggregate_type, aggregate_id, tenant_id?, payload?, idempotency_key?, deliver_at? | delay?, priority?, ordering_key?}; validates every element (all or nothing, the error names events[i].field). Returns each element''s event id and whether it was new.';
revoke all on function feyxa.emit_events(jsonb) from public;
grant execute on function feyxa.emit_events(jsonb) to service_role;
