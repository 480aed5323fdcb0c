-- [20261123000002]
-- Checks one event's fields; raises invalid_parameter_value (22023) naming the field,
-- or program_limit_exceeded (54000) for an oversized payload. p_where prefixes the
-- field name, e.g. 'events[3].' in a batch.
create or replace function feyxa.assert_event_input(p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_payload jsonb, p_idempotency_key text, p_where text default ''::text)
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

-- [20261123000002]
-- The key an event gets when its emitter gives none: `type:aggregate` for the types
-- declared once per aggregate (a second order.created for one order is a duplicate),
-- a fresh random key for everything else (a second payment.failed is a new fact).
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

-- [20261128000002]
-- The flow-control options of an emit, checked; p_prefix names the element of a batch.
create or replace function feyxa.assert_flow_input(p_deliver_at timestamp with time zone, p_priority integer, p_ordering_key text, p_prefix text)
returns void
language plpgsql immutable
set search_path = feyxa, pg_catalog
as $$
begin
  if p_deliver_at is not null and not isfinite(p_deliver_at) then
    raise exception using errcode = '22023', message = p_prefix || 'deliver_at must be a finite time', detail = p_prefix || 'deliver_at';
  end if;
  if p_priority is not null and p_priority not between 0 and 1000 then
    raise exception using errcode = '22023', message = p_prefix || 'priority must be between 0 and 1000', detail = p_prefix || 'priority';
  end if;
  if p_ordering_key is not null and length(p_ordering_key) not between 1 and 200 then
    raise exception using errcode = '22023', message = p_prefix || 'ordering_key must be 1 to 200 characters', detail = p_prefix || 'ordering_key';
  end if;
end;
$$;
comment on function feyxa.assert_flow_input(timestamp with time zone,integer,text,text) is 'Validates an emit''s flow-control options (deliver_at, priority, ordering_key), naming the field.';
revoke all on function feyxa.assert_flow_input(timestamp with time zone,integer,text,text) from public;
grant execute on function feyxa.assert_flow_input(timestamp with time zone,integer,text,text) to service_role;

-- [20261128000002]
-- A batch element's flow-control options, checked: deliver_at a time, delay seconds (not
-- both), priority an integer, ordering_key a string.
create or replace function feyxa.assert_flow_element(p_event jsonb, p_prefix text)
returns void
language plpgsql
set search_path = feyxa, pg_catalog
as $$
declare
  v_at timestamptz;
begin
  if p_event ? 'deliver_at' and p_event ? 'delay' then
    raise exception using errcode = '22023', message = p_prefix || 'delay: give deliver_at or delay, not both', detail = p_prefix || 'delay';
  end if;
  if p_event ? 'deliver_at' then
    begin
      v_at := (p_event ->> 'deliver_at')::timestamptz;
    exception when others then
      raise exception using errcode = '22023', message = p_prefix || 'deliver_at must be a time (ISO 8601)', detail = p_prefix || 'deliver_at';
    end;
  end if;
  if p_event ? 'delay' and (jsonb_typeof(p_event -> 'delay') <> 'number' or (p_event ->> 'delay')::numeric not between 0 and 31536000) then
    raise exception using errcode = '22023', message = p_prefix || 'delay must be a number of seconds between 0 and 31536000', detail = p_prefix || 'delay';
  end if;
  if p_event ? 'priority' and (jsonb_typeof(p_event -> 'priority') <> 'number' or (p_event ->> 'priority') !~ '^\d{1,4}$') then
    raise exception using errcode = '22023', message = p_prefix || 'priority must be an integer between 0 and 1000', detail = p_prefix || 'priority';
  end if;
  if p_event ? 'ordering_key' and jsonb_typeof(p_event -> 'ordering_key') <> 'string' then
    raise exception using errcode = '22023', message = p_prefix || 'ordering_key must be a string', detail = p_prefix || 'ordering_key';
  end if;
  perform assert_flow_input(v_at, (p_event ->> 'priority')::int, p_event ->> 'ordering_key', p_prefix);
end;
$$;
comment on function feyxa.assert_flow_element(jsonb,text) is 'Validates a batch element''s flow-control options (deliver_at, delay, priority, ordering_key), naming the field.';
revoke all on function feyxa.assert_flow_element(jsonb,text) from public;
grant execute on function feyxa.assert_flow_element(jsonb,text) to service_role;

-- [first 20261123000002]
-- Emits one event and says whether it was new. A duplicate idempotency key inserts
-- nothing and returns the existing event. Concurrent emits of one key are safe: the
-- unique index makes the later ones wait for the first and then see its row.
-- It is what producers pay on every business write, so it does little per call: valid
-- input (the usual case) is checked in one expression, and only input that fails it goes
-- through assert_event_input for the precise error; the settings, the insert and the queue
-- row are one statement; it returns one row, not a set; the NOTIFY comes from the trigger
-- above at commit, the pg_net wake-up from here, only where a URL is set.
-- [20261128000002]
create or replace function feyxa.emit_event_report(p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid, p_payload jsonb, p_idempotency_key text default null, p_deliver_at timestamp with time zone default null, p_priority integer default null, p_ordering_key text default null, out event_id uuid, out inserted boolean)
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

  -- As in 20261127930000, the event and its queue row in one statement; the row carries its tenant's lane when fairness is on.
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
    -- (20261128000001); a held one waits at infinity for its release, its delivery time kept
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

-- [20261128000002]
create or replace function feyxa.emit_event(p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid, p_payload jsonb, p_idempotency_key text default null, p_deliver_at timestamp with time zone default null, p_priority integer default null, p_ordering_key text default null)
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

-- [first 20261123000002]
-- Emits many events in one statement, for bulk producers. p_events is a JSON array of
-- {event_type, aggregate_type, aggregate_id, store_id?, payload?, idempotency_key?}.
-- All or nothing: one invalid element rejects the batch, naming it (events[i].field).
-- One wake-up for the whole batch (the NOTIFY at commit, the pg_net wake-up here).
-- [20261128000002]
-- emit_events: the batch gains the same options per element: deliver_at (a time), delay
-- (seconds from now), priority, ordering_key. A batch with an ordered element is emitted
-- element by element, in array order, through emit_event_report (each line's lock and
-- place); otherwise as before, in one statement.
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

  -- As in 20261127100000: each element's event and whether it is new.
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
