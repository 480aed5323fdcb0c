-- Fairness between tenants (issue 14, item 3): one tenant's flood must not starve the
-- others, and a tenant may be capped in how many of its events are in flight at once,
-- across every dispatcher. Off by default: the claim is then the one of 20261128000000.
--
-- When on (configure_tenant_fairness), every open queue row carries its tenant's lane
-- (event_queue.tenant_id; events without a tenant share one lane, the nil uuid), and a
-- claim serves the lanes that have due events in turn: the lanes whose oldest due event has
-- waited longest first, an equal share of the batch each, then the rest of the batch to
-- whoever still has due events and room. A capped lane is served by one claim at a time (a
-- transaction-scoped advisory lock, tried, never waited for), which counts its leased
-- events and takes no more than its room: the cap holds across dispatchers.
-- The lanes' indexes hold only rows with a lane, so the bus pays for them only when on.

alter table feyxa.event_bus_settings
  add column tenant_fairness boolean not null default false,
  add column tenant_max_in_flight int check (tenant_max_in_flight > 0);
comment on column feyxa.event_bus_settings.tenant_fairness is 'Claims serve tenants in turn (configure_tenant_fairness).';
comment on column feyxa.event_bus_settings.tenant_max_in_flight is 'Default cap on one tenant''s events in flight across all dispatchers (null: none); tenant_limits overrides it.';

alter table feyxa.event_queue add column tenant_id uuid;
comment on column feyxa.event_queue.tenant_id is 'The event''s lane for the fair claim (its tenant, or the nil uuid); null while fairness is off.';
-- A lane's claimable events in due order (dead and held events wait at infinity, outside it).
create index event_queue_lane_idx on feyxa.event_queue (tenant_id, due_at)
  where tenant_id is not null and locked_by is null and due_at < 'infinity';
-- A lane's events in flight, counted against its cap.
create index event_queue_lane_leased_idx on feyxa.event_queue (tenant_id)
  where tenant_id is not null and locked_by is not null;

create table feyxa.tenant_limits (
  tenant_id     uuid primary key,
  max_in_flight int not null check (max_in_flight > 0),
  updated_at    timestamptz not null default now()
);
comment on table feyxa.tenant_limits is 'Per-tenant caps on events in flight, overriding event_bus_settings.tenant_max_in_flight. Written by set_tenant_limit.';
alter table feyxa.tenant_limits enable row level security;
revoke all on feyxa.tenant_limits from public, anon, authenticated;
grant all on feyxa.tenant_limits to service_role;

create function feyxa.configure_tenant_fairness(p_enabled boolean, p_max_in_flight int default null)
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if p_enabled is null then
    raise exception using errcode = '22023', message = 'enabled must be true or false', detail = 'enabled';
  end if;
  if p_max_in_flight is not null and p_max_in_flight < 1 then
    raise exception using errcode = '22023', message = 'max_in_flight must be at least 1', detail = 'max_in_flight';
  end if;
  update event_bus_settings set tenant_fairness = p_enabled, tenant_max_in_flight = p_max_in_flight, updated_at = now();
  -- The open events join their lanes, or leave them. Under the settings row's lock: an
  -- emit that read the old setting has committed before this reads the queue.
  if p_enabled then
    update event_queue q set tenant_id = coalesce(e.tenant_id, '00000000-0000-0000-0000-000000000000')
    from events_log e where e.id = q.event_id and q.tenant_id is null;
  else
    update event_queue set tenant_id = null where tenant_id is not null;
  end if;
end;
$$;
comment on function feyxa.configure_tenant_fairness(boolean, int) is
  'Turns the fair claim on or off, with the default cap on one tenant''s events in flight (null: none). The open events join (or leave) their tenants'' lanes.';

create function feyxa.set_tenant_limit(p_tenant_id uuid, p_max_in_flight int)
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if p_tenant_id is null then
    raise exception using errcode = '22023', message = 'tenant_id is required', detail = 'tenant_id';
  end if;
  if p_max_in_flight is null then
    delete from tenant_limits where tenant_id = p_tenant_id;
  elsif p_max_in_flight < 1 then
    raise exception using errcode = '22023', message = 'max_in_flight must be at least 1', detail = 'max_in_flight';
  else
    insert into tenant_limits (tenant_id, max_in_flight) values (p_tenant_id, p_max_in_flight)
    on conflict (tenant_id) do update set max_in_flight = excluded.max_in_flight, updated_at = now();
  end if;
end;
$$;
comment on function feyxa.set_tenant_limit(uuid, int) is
  'Caps one tenant''s events in flight across all dispatchers (null: back to the default). Applies while fairness is on.';

-- The fair claim's choice: up to p_limit due events, row-locked, served lane by lane.
create function feyxa.fair_claimable(p_limit int)
returns uuid[]
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_ids     uuid[] := '{}';
  v_lanes   uuid[];
  v_room    int[];
  v_lane    uuid;
  v_cap     int;
  v_want    int;
  v_got     uuid[];
  v_pass    int;
  i         int;
begin
  -- The lanes with a due event, longest waiting first: a skip scan of event_queue_lane_idx
  -- (one probe per lane), then each lane's head. At most p_limit lanes are served per claim.
  select array_agg(l.tenant_id order by l.head), array_agg(null::int order by l.head)
  into v_lanes, v_room
  from (
    select lane.tenant_id,
           (select min(q.due_at) from event_queue q
            where q.tenant_id = lane.tenant_id and q.locked_by is null and q.due_at < 'infinity') as head
    from (
      with recursive lane as (
        (select q.tenant_id from event_queue q
         where q.tenant_id is not null and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
         order by q.tenant_id limit 1)
        union all
        select (select q.tenant_id from event_queue q
                where q.tenant_id > lane.tenant_id and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
                order by q.tenant_id limit 1)
        from lane where lane.tenant_id is not null
      )
      select tenant_id from lane where tenant_id is not null
    ) lane
    order by 2 limit p_limit
  ) l;
  if v_lanes is null then
    return v_ids;
  end if;

  -- Each lane's room: unbounded, or its cap less what it has in flight, counted under its
  -- lock. A lane another claim is serving right now is left to that claim.
  for i in 1 .. cardinality(v_lanes) loop
    v_lane := v_lanes[i];
    v_cap := coalesce((select t.max_in_flight from tenant_limits t where t.tenant_id = v_lane),
                      (select s.tenant_max_in_flight from event_bus_settings s));
    if v_cap is null then
      v_room[i] := p_limit;
    elsif pg_try_advisory_xact_lock(hashtextextended('feyxa.lane:' || v_lane, 0)) then
      v_room[i] := greatest(v_cap - (select count(*) from event_queue q where q.tenant_id = v_lane and q.locked_by is not null), 0);
    else
      v_room[i] := 0;
    end if;
  end loop;

  -- Two passes: an equal share each, then what is left of the batch, lane by lane.
  for v_pass in 1 .. 2 loop
    for i in 1 .. cardinality(v_lanes) loop
      exit when cardinality(v_ids) >= p_limit;
      v_want := least(v_room[i], p_limit - cardinality(v_ids),
                      case when v_pass = 1 then greatest(p_limit / cardinality(v_lanes), 1) else p_limit end);
      continue when v_want <= 0;
      v_got := array(
        select q.event_id from event_queue q
        where q.tenant_id = v_lanes[i] and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
          and (q.not_before is null or q.not_before <= now()) and q.event_id <> all (v_ids)
        order by q.due_at
        limit v_want
        for update skip locked);
      v_ids := v_ids || v_got;
      v_room[i] := v_room[i] - cardinality(v_got);
    end loop;
  end loop;
  return v_ids;
end;
$$;
comment on function feyxa.fair_claimable(int) is
  'Internal to claim_events when tenant_fairness is on: up to p_limit due events, row-locked, an equal share per tenant lane (longest waiting first) then the rest, within each lane''s in-flight cap.';

-- As in 20261123000003, and a replayed event (a new queue row) keeps its priority and,
-- when fairness is on, joins its lane.
create or replace function feyxa.enqueue_events(p_event_ids uuid[], p_due_at timestamptz default now())
returns void
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  insert into event_queue (event_id, due_at, priority, tenant_id)
  select e.id, p_due_at, e.priority,
         case when s.tenant_fairness then coalesce(e.tenant_id, '00000000-0000-0000-0000-000000000000') end
  from events_log e, event_bus_settings s
  where e.id = any (p_event_ids)
  on conflict (event_id) do update set due_at = excluded.due_at, locked_by = null
$$;
comment on function feyxa.enqueue_events(uuid[], timestamptz) is
  'Makes events due at p_due_at (now by default) in event_queue, unleased; inserts their queue rows (with their priority and lane) if they have none.';

create or replace function feyxa.emit_event_report(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid,
  p_payload jsonb, p_idempotency_key text default null,
  p_deliver_at timestamptz default null, p_priority int default null, p_ordering_key text default null,
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
    -- A new statement: it sees a line's head that left the queue while we waited for the lock.
    v_held := exists (select 1 from event_queue q where q.ordering_key = v_line);
  end if;

  -- As in 20261128000000; the queue row carries its tenant's lane when fairness is on.
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
    insert into event_queue as q (event_id, due_at, priority, held, ordering_key, ordering_seq, tenant_id)
    select ins.id, case when v_held then 'infinity' else greatest(ins.created_at, coalesce(p_deliver_at, ins.created_at)) end,
           v_priority, v_held, v_line, v_seq, case when s.tenant_fairness then coalesce(p_tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) end
    from ins, settings s
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

create or replace function feyxa.claim_events(p_worker text, p_limit int default 50, p_lease interval default interval '30 seconds')
returns setof feyxa.claimed_event
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_ids   uuid[];
  v_taken int;
begin
  perform assert_claim_input(p_worker, p_lease);
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 10000', detail = 'limit';
  end if;
  -- As in 20261128000000, with the fair claim when tenant_fairness is on.
  if txid_current_if_assigned() is null then
    perform set_config('synchronous_commit', 'off', true);
  end if;

  perform reap_expired_leases();

  if (select tenant_fairness from event_bus_settings) then
    v_ids := fair_claimable(p_limit);
  else
    v_ids := array(
      select event_id from event_queue
      where locked_by is null and due_at <= now() and (not_before is null or not_before <= now())
      order by due_at
      limit p_limit
      for update skip locked);
  end if;
  return query select * from lease_events(v_ids, p_worker, p_lease);
  get diagnostics v_taken = row_count;
  if v_taken < cardinality(v_ids) then
    perform tidy_event_queue(v_ids);
  end if;
end;
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'feyxa.configure_tenant_fairness(boolean, int)', 'feyxa.set_tenant_limit(uuid, int)', 'feyxa.fair_claimable(int)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;

-- As in 20261128000000; with fairness on, a capped lane's event is claimed by id only
-- while its lane has room (counted under the lane's lock, as the fair claim does).
create or replace function feyxa.claim_event(p_event_id uuid, p_worker text, p_lease interval default interval '30 seconds')
returns setof feyxa.claimed_event
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_ids  uuid[];
  v_lane uuid;
  v_cap  int;
begin
  perform assert_claim_input(p_worker, p_lease);
  select q.tenant_id into v_lane from event_queue q where q.event_id = p_event_id;
  if v_lane is not null then
    v_cap := coalesce((select t.max_in_flight from tenant_limits t where t.tenant_id = v_lane),
                      (select s.tenant_max_in_flight from event_bus_settings s));
    if v_cap is not null and (not pg_try_advisory_xact_lock(hashtextextended('feyxa.lane:' || v_lane, 0))
                              or (select count(*) from event_queue q where q.tenant_id = v_lane and q.locked_by is not null) >= v_cap) then
      return;
    end if;
  end if;
  v_ids := array(
    select event_id from event_queue
    where event_id = p_event_id and locked_by is null and due_at <= now() and (not_before is null or not_before <= now())
    for update skip locked);
  return query select * from lease_events(v_ids, p_worker, p_lease);
  if not found and cardinality(v_ids) > 0 then
    perform tidy_event_queue(v_ids);
  end if;
end;
$$;
