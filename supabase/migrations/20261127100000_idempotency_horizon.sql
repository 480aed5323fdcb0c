-- Idempotency keys outlive their events: the retention purge (20261123400000) deletes
-- completed events, and with them the unique idempotency_key that made a re-emit of the
-- same fact a duplicate; a buyer's re-asked order.created (key order.created:<order id>)
-- then ran again and mailed a second confirmation. The purge now moves each key into
-- purged_event_keys, in the same statement as the delete, and the emit functions answer a
-- remembered key as a duplicate of the original event.
--
-- How long: a key is remembered until event_bus_settings.idempotency_horizon after its
-- event was created (90 days by default), then forgotten by the purge itself, in bounded
-- batches. The horizon counts from the first emit because that is where a producer's
-- retries count from. 90 days is three times the 30-day retention and longer than any
-- producer's retry we know of: the dispatcher's own retries end within hours, a webhook
-- sender's within days (Stripe: 3), the storefront re-asks while its checkout page is
-- open. A fact re-emitted after the horizon, once its event is purged, runs again
-- (docs/reliability.md, "Idempotency keys and retention"). Incoming webhooks keep their
-- provider ids forever in processed_webhooks; this is the emitters' counterpart.

alter table event_bus_settings add column if not exists idempotency_horizon interval not null default interval '90 days'
  check (idempotency_horizon >= interval '0');

-- The key text itself, not a hash of it: exact (no collision to argue about), and at
-- the ~50 bytes of a typical key (order.created:<uuid>) a 16-byte digest would save
-- little (about 70 of the 260 bytes a key takes with its indexes, measured over 500,000
-- order.created keys) while costing every checked emit a hash.
create table if not exists purged_event_keys (
  idempotency_key text primary key,
  event_id        uuid not null,        -- the original event, the answer to a re-emit
  event_type      text not null,
  created_at      timestamptz not null, -- the event's; the horizon counts from it
  purged_at       timestamptz not null default now()
);
comment on table purged_event_keys is
  'Idempotency keys of completed events the retention purge deleted, kept until idempotency_horizon after their event''s creation: a re-emit of one is a duplicate of event_id.';
-- What the purge forgets, oldest first, a bounded batch at a time.
create index if not exists purged_event_keys_created_idx on purged_event_keys (created_at);

alter table purged_event_keys enable row level security;
revoke all on purged_event_keys from anon, authenticated;
grant all on purged_event_keys to service_role;

-- Purges one bounded batch of old completed events, as before, and now also: keeps the
-- keys of those still within the horizon (same statement, so no moment exists where a
-- key is in neither table), and forgets up to p_batch keys past the horizon. Returns the
-- larger of the two counts, so "call again while it returns p_batch" drains both.
create or replace function purge_completed_events(p_batch int default 5000)
returns int
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_purged    int;
  v_forgotten int;
  v_horizon   interval := (select idempotency_horizon from event_bus_settings);
begin
  if p_batch is null or p_batch not between 1 and 100000 then
    raise exception using errcode = '22023', message = 'batch must be between 1 and 100000', detail = 'batch';
  end if;
  -- The selection is 20261123400000's (see there why it reads events_log_created_idx).
  with old as (
    select id from events_log e
    where e.created_at < now() - (select retention from event_bus_settings)
      and e.status = 'completed' and e.processed_at < now() - (select retention from event_bus_settings)
      and not exists (select 1 from aggregate_stream_events s where s.event_id = e.id)
    order by e.created_at
    limit p_batch
    for update skip locked
  ),
  purged as (
    delete from events_log e using old where e.id = old.id
    returning e.id, e.idempotency_key, e.event_type, e.created_at
  ),
  runs as (delete from event_handlers_log h using purged where h.event_id = purged.id),
  -- A key already past the horizon is not kept only to be forgotten below. A key kept
  -- before (its event re-emitted after being forgotten, purged again) takes the newer event.
  kept as (
    insert into purged_event_keys as k (idempotency_key, event_id, event_type, created_at)
    select p.idempotency_key, p.id, p.event_type, p.created_at from purged p
    where p.created_at >= now() - v_horizon
    on conflict (idempotency_key) do update
      set event_id = excluded.event_id, event_type = excluded.event_type,
          created_at = excluded.created_at, purged_at = excluded.purged_at
      where k.created_at < excluded.created_at
  )
  select count(*) into v_purged from purged;

  with expired as (
    select k.idempotency_key from purged_event_keys k
    where k.created_at < now() - v_horizon
    order by k.created_at
    limit p_batch
    for update skip locked
  ),
  forgotten as (
    delete from purged_event_keys k using expired where k.idempotency_key = expired.idempotency_key returning 1
  )
  select count(*) into v_forgotten from forgotten;
  return greatest(v_purged, v_forgotten);
end;
$$;
comment on function purge_completed_events(int) is
  'Purges one bounded batch of completed events older than event_bus_settings.retention (with their handler rows), keeping their idempotency keys in purged_event_keys, and forgets up to p_batch kept keys older than idempotency_horizon. Returns the larger count. Never touches failed or dead events, nor events of an event-sourced stream.';

-- Emitting, with remembered keys. The check costs one index probe of purged_event_keys,
-- and only where a remembered key is possible: a key the caller gave, or the
-- type:aggregate key of a once-per-aggregate type (a random default key was never
-- purged). It runs after the insert, in a statement of its own, because of the purge
-- running at the same time: an insert that meets the key's row while the purge is
-- deleting it waits for the purge, then inserts once it commits; a check in the
-- insert's statement would still read the snapshot from before that commit and miss the
-- kept key. The next statement's snapshot (READ COMMITTED) sees it, and the insert is
-- undone. A remembered key found so (a re-emit of a purged fact: rare) pays an insert and
-- a delete; a new key pays the probe. Under REPEATABLE READ or SERIALIZABLE, a purge that
-- commits after the emitter's snapshot is not seen: the one case where a key of an event
-- completed more than `retention` ago can slip through (docs/reliability.md).
create or replace function emit_event_report(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_store_id uuid,
  p_payload jsonb, p_idempotency_key text default null,
  out event_id uuid, out inserted boolean
)
language plpgsql
security definer
set search_path = public, pg_catalog
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
    insert into events_log (event_type, aggregate_type, aggregate_id, store_id, payload, idempotency_key, max_retries)
    select p_event_type, p_aggregate_type, p_aggregate_id, p_store_id, p_payload,
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
comment on function emit_event_report(text, text, uuid, uuid, jsonb, text) is
  'emit_event that also reports whether the event is new (inserted) or a duplicate of an existing idempotency key, or of one kept after its event was purged (event_id is then the purged event''s). Listeners are woken at commit.';

-- emit_events as in 20261123000002, with the same check of remembered keys after the insert.
create or replace function emit_events(p_events jsonb)
returns table (idx int, event_id uuid, inserted boolean)
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_bad      record;
  v_keys     text[];
  v_new_ids  uuid[];
  v_undone   uuid[];
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
       or coalesce(e.v ->> 'store_id', '00000000-0000-0000-0000-000000000000') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$'
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
    if coalesce(v_bad.v ->> 'store_id', '00000000-0000-0000-0000-000000000000') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$' then
      raise exception using errcode = '22023', message = format('events[%s].store_id must be a UUID or absent', v_bad.i), detail = format('events[%s].store_id', v_bad.i);
    end if;
    perform assert_event_input(v_bad.v ->> 'event_type', v_bad.v ->> 'aggregate_type', (v_bad.v ->> 'aggregate_id')::uuid,
                               coalesce(v_bad.v -> 'payload', '{}'), v_bad.v ->> 'idempotency_key', format('events[%s].', v_bad.i));
  end loop;

  -- Keys first (default keys may be random), so that the lookup below finds every event.
  select array_agg(coalesce(e.v ->> 'idempotency_key', default_idempotency_key(e.v ->> 'event_type', (e.v ->> 'aggregate_id')::uuid)) order by e.ord)
  into v_keys
  from jsonb_array_elements(p_events) with ordinality as e(v, ord);

  with ins as (
    insert into events_log (event_type, aggregate_type, aggregate_id, store_id, payload, idempotency_key, max_retries)
    select e.v ->> 'event_type', e.v ->> 'aggregate_type', (e.v ->> 'aggregate_id')::uuid, (e.v ->> 'store_id')::uuid,
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
comment on function emit_events(jsonb) is
  'Batch emit_event for bulk producers: validates every element (all or nothing, the error names events[i].field), inserts in one statement, wakes once (at commit). Returns each element''s event id and whether it was new; a key kept after its event was purged is a duplicate of that event.';
