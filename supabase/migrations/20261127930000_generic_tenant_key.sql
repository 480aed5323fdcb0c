-- The bus's tenant key is generic: events_log.store_id becomes tenant_id. The bus
-- knows nothing of stores; an application puts whatever partitions its data there (the
-- marketplace puts its store), and its read-policy hooks (20261127900001) decide who reads
-- which tenant's events.
--
-- The column, its index and the policy that reads it follow the rename (they hold the
-- column by number). The composite a claim returns is renamed the same way. What names
-- the column by text is restated below: the emit functions, the claim's lease_events and
-- append_to_stream. The emit functions' parameter becomes p_tenant_id, which a function's
-- signature cannot change in place: they are dropped and created again, with their grants.
-- emit_events reads the tenant from `tenant_id`, and still from `store_id` (its name in
-- 0.1.0) when tenant_id is absent; that spelling goes in the next minor release.

alter table feyxa.events_log rename column store_id to tenant_id;
alter index feyxa.events_log_store_created_idx rename to events_log_tenant_created_idx;
comment on column feyxa.events_log.tenant_id is
  'Optional tenant (partition) key chosen by the application; the read-policy hooks reader_tenants and tenant_label interpret it.';
alter type feyxa.claimed_event rename attribute store_id to tenant_id;

drop function feyxa.append_to_stream(text, text, uuid, uuid, jsonb, int, text);
drop function feyxa.emit_event(text, text, uuid, uuid, jsonb, text);
drop function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text);

-- As in 20261127100000 (remembered keys checked after the insert), with the tenant key.
create function feyxa.emit_event_report(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid,
  p_payload jsonb, p_idempotency_key text default null,
  out event_id uuid, out inserted boolean
)
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_url      text;
  v_checked  text;  -- the event's key when it may have been remembered, else null
  v_kept     uuid;
begin
  if p_event_type is null or not event_type_is_valid(p_event_type)
     or p_aggregate_type is null or p_aggregate_type !~ '^[a-z][a-z0-9_]{0,62}$'
     or p_aggregate_id is null or p_payload is null or jsonb_typeof(p_payload) <> 'object'
     or octet_length(p_payload::text) > 65536
     or length(p_idempotency_key) not between 1 and 200 then
    perform assert_event_input(p_event_type, p_aggregate_type, p_aggregate_id, p_payload, p_idempotency_key);
  end if;

  -- As in 20261123000002: the event and its queue row in one statement with the settings.
  with settings as (
    select default_max_retries, once_per_aggregate, functions_url,
           coalesce(p_idempotency_key, case when p_event_type = any (once_per_aggregate) then p_event_type || ':' || p_aggregate_id end) as checked_key
    from event_bus_settings
  ), ins as (
    insert into events_log (event_type, aggregate_type, aggregate_id, tenant_id, payload, idempotency_key, max_retries)
    select p_event_type, p_aggregate_type, p_aggregate_id, p_tenant_id, p_payload,
           coalesce(s.checked_key, p_event_type || ':' || gen_random_uuid()), s.default_max_retries
    from settings s
    on conflict (idempotency_key) do nothing
    returning id, created_at
  ), queued as (
    insert into event_queue as q (event_id, due_at) select ins.id, ins.created_at from ins
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
      return;
    end if;
  end if;
  if inserted then
    if v_url is not null then
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

-- As in 20261123000002.
create function feyxa.emit_event(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid,
  p_payload jsonb, p_idempotency_key text default null
)
returns uuid
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  select event_id from emit_event_report(p_event_type, p_aggregate_type, p_aggregate_id, p_tenant_id, p_payload, p_idempotency_key)
$$;

-- As in 20261127100000; the tenant from tenant_id, or store_id while that spelling lasts.
create or replace function feyxa.emit_events(p_events jsonb)
returns table (idx int, event_id uuid, inserted boolean)
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_bad      record;
  v_keys     text[];
  v_new_ids  uuid[];
  v_undone   uuid[];
  v_field    text;
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
    returning id, created_at
  ), queued as (
    insert into event_queue (event_id, due_at) select ins.id, ins.created_at from ins
  )
  select array_agg(ins.id) into v_new_ids from ins;

  -- Keys the purge kept, among the events just inserted: undone, as in emit_event_report
  -- (a statement of its own, for the same reason). The check is one index scan of
  -- purged_event_keys for the batch's keys (= any: btree probes, never a scan of the table).
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

  -- A new statement sees our inserts and any concurrent emitter's committed duplicate,
  -- and the keys of purged events (in the log or kept: one snapshot sees one of the two).
  -- An element is "inserted" when its event is new and it is the first element with that key.
  return query
  -- One index probe of the log per key, and of the kept keys only where the log has none
  -- (coalesce evaluates its second subquery only then). Written as probes, not a join: an
  -- outer join to the log is free to hash the whole log, and did at 100,000 events.
  select (k.ord - 1)::int, x.id,
         n.id is not null and row_number() over (partition by k.key order by k.ord) = 1
  from unnest(v_keys) with ordinality as k(key, ord)
  cross join lateral (select coalesce((select e.id from events_log e where e.idempotency_key = k.key),
                                      (select p.event_id from purged_event_keys p where p.idempotency_key = k.key)) as id) x
  left join unnest(v_new_ids) as n(id) on n.id = x.id
  order by k.ord;
end;
$$;

-- As in 20261123000003.
create or replace function feyxa.lease_events(p_event_ids uuid[], p_worker text, p_lease interval)
returns setof feyxa.claimed_event
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  with leased as (
    update events_log e set
      status = 'processing', attempt = e.attempt + 1, locked_by = p_worker, locked_until = now() + p_lease,
      next_retry_at = null, first_claimed_at = coalesce(e.first_claimed_at, now()), updated_at = now()
    where e.id = any (p_event_ids) and e.status in ('pending', 'failed')
    returning e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.tenant_id, e.payload, e.idempotency_key,
              e.attempt, e.retry_count, e.max_retries, e.created_at
  ), held as (
    update event_queue q set locked_by = p_worker, due_at = now() + p_lease
    from leased l where q.event_id = any (p_event_ids) and q.event_id = l.id
  )
  select l.id, l.event_type, l.aggregate_type, l.aggregate_id, l.tenant_id, l.payload, l.idempotency_key,
         l.attempt, l.retry_count, l.max_retries, l.created_at,
         -- a first attempt has nothing to skip: spare the lookup on the hot path
         case when l.attempt = 1 then '{}'::text[]
              else array(select h.handler_name from event_handlers_log h where h.event_id = l.id and h.status = 'success') end
  from leased l
$$;

-- As in 20261123300000.
create function feyxa.append_to_stream(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid, p_payload jsonb,
  p_expected_version int default null, p_idempotency_key text default null
)
returns table (event_id uuid, version int, inserted boolean)
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_current int;
  v_report  record;
begin
  insert into aggregate_streams (aggregate_type, aggregate_id) values (p_aggregate_type, p_aggregate_id)
  on conflict do nothing;
  select s.version into v_current from aggregate_streams s
  where s.aggregate_type = p_aggregate_type and s.aggregate_id = p_aggregate_id for update;

  if p_idempotency_key is not null then
    select e.event_id, e.version into event_id, version
    from aggregate_stream_events e join events_log l on l.id = e.event_id
    where l.idempotency_key = p_idempotency_key;
    if found then
      inserted := false;
      return next;
      return;
    end if;
  end if;
  if p_expected_version is not null and p_expected_version <> v_current then
    raise exception using errcode = '55000',
      message = format('expected version %s of %s %s, but it is at version %s: reload and try again', p_expected_version, p_aggregate_type, p_aggregate_id, v_current),
      detail = 'expected_version';
  end if;

  select * into v_report from emit_event_report(p_event_type, p_aggregate_type, p_aggregate_id, p_tenant_id, p_payload,
                                                coalesce(p_idempotency_key, p_aggregate_type || ':' || p_aggregate_id || ':v' || (v_current + 1)));
  if not v_report.inserted then
    raise exception using errcode = '55000', message = 'this event already exists outside the stream', detail = 'idempotency_key';
  end if;
  update aggregate_streams s set version = v_current + 1, updated_at = now()
  where s.aggregate_type = p_aggregate_type and s.aggregate_id = p_aggregate_id;
  insert into aggregate_stream_events (aggregate_type, aggregate_id, version, event_id, checksum)
  values (p_aggregate_type, p_aggregate_id, v_current + 1, v_report.event_id, payload_checksum(p_payload));
  event_id := v_report.event_id;
  version := v_current + 1;
  inserted := true;
  return next;
end;
$$;


comment on function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text) is
  'emit_event that also reports whether the event is new (inserted) or a duplicate of an existing idempotency key, or of one kept after its event was purged (event_id is then the purged event''s). Listeners are woken at commit.';
comment on function feyxa.emit_event(text, text, uuid, uuid, jsonb, text) is
  'THE entry point of the bus: stores an event (with an optional tenant key) in the caller''s transaction and wakes the dispatchers. Returns its id (the existing one for a duplicate idempotency key).';
comment on function feyxa.emit_events(jsonb) is
  'Batch emit_event for bulk producers: each element {event_type, aggregate_type, aggregate_id, tenant_id?, payload?, idempotency_key?}; validates every element (all or nothing, the error names events[i].field), inserts in one statement, wakes once (at commit). Returns each element''s event id and whether it was new; a key kept after its event was purged is a duplicate of that event.';
comment on function feyxa.lease_events(uuid[], text, interval) is
  'Internal to the claim functions: starts the next attempt of row-locked events under a worker''s lease; returns them with the handlers that already succeeded.';
comment on function feyxa.append_to_stream(text, text, uuid, uuid, jsonb, int, text) is
  'Emits an event onto an aggregate''s versioned stream; with an expected version, fails (55000) when another writer got there first.';

-- The server role calls these; the API roles never do (feyxa grants no execute to public).
revoke all on function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text), feyxa.emit_event(text, text, uuid, uuid, jsonb, text),
                       feyxa.append_to_stream(text, text, uuid, uuid, jsonb, int, text) from public, anon, authenticated;
grant execute on function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text), feyxa.emit_event(text, text, uuid, uuid, jsonb, text),
                          feyxa.append_to_stream(text, text, uuid, uuid, jsonb, int, text) to service_role;
