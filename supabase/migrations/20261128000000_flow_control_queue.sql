-- Flow control in the queue (issue 14): delivery times, priorities, order per aggregate,
-- and cancelling an event before it runs. With none of them in use an event is queued,
-- claimed and completed exactly as before: the claim still reads event_queue_due_idx in
-- due_at order, and every new step is skipped by a null or a zero.
--
-- How each works, in event_queue (one row per open event):
--   delivery time   due_at is the delivery time instead of now.
--   priority p      due_at is moved p seconds earlier (0 to 1000): the event goes ahead of
--                   events that became due less than p seconds before it, and never further,
--                   so nothing waits forever (ageing by construction). not_before keeps the
--                   real due time; a trigger applies the shift whenever due_at is written.
--   order           the events of one ordering key (by default type:aggregate of an event
--                   type configured `ordered`, or the key an emit names) form a line: the
--                   first is claimable, the others are held (held, due at 'infinity') and
--                   released one at a time, in emit order, when the one before leaves the
--                   queue (completed, discarded, cancelled) or, with on_dead_head = 'skip',
--                   goes dead. With 'hold' (the default) a dead head holds its line until an
--                   operator retries or discards it.
--   cancel          cancel_event: a pending event (scheduled, held or due) becomes cancelled,
--                   terminal, audited, with its reason.

-- What the emitter asked for, kept with the event (the monitor shows it).
alter table feyxa.events_log
  add column deliver_at   timestamptz,
  add column priority     smallint not null default 0 check (priority between 0 and 1000),
  add column ordering_key text check (length(ordering_key) between 1 and 200),
  add column ordering_seq bigint;
comment on column feyxa.events_log.deliver_at is 'When the emitter asked the event to be delivered (null: at once). Pending before then: scheduled.';
comment on column feyxa.events_log.priority is 'Head start in the claim, in seconds (0 to 1000; 0: none).';
comment on column feyxa.events_log.ordering_key is 'The line the event waits in: events of one key are handled one at a time, in ordering_seq order. Null: unordered.';
comment on column feyxa.events_log.ordering_seq is 'The event''s place in its ordering key''s line, assigned at emit under the key''s lock.';

alter table feyxa.events_log drop constraint if exists events_log_status_check;
alter table feyxa.events_log add constraint events_log_status_check
  check (status in ('pending', 'processing', 'completed', 'failed', 'dead', 'discarded', 'cancelled')) not valid;
alter table feyxa.events_log validate constraint events_log_status_check;

alter table feyxa.event_queue
  add column priority     smallint not null default 0,
  add column not_before   timestamptz,
  add column held         boolean not null default false,
  add column ordering_key text,
  add column ordering_seq bigint;
comment on column feyxa.event_queue.not_before is 'For a prioritised event, its real due time (due_at is moved earlier by its priority). Null otherwise.';
comment on column feyxa.event_queue.held is 'Waiting for the event before it in its ordering key''s line (due_at is then infinity).';
comment on column feyxa.event_queue.ordering_key is 'Set while the event blocks the later events of its key: until it leaves the queue (or goes dead, with on_dead_head = skip).';
-- Each line, in order (only ordered events are in it).
create index event_queue_ordering_idx on feyxa.event_queue (ordering_key, ordering_seq) where ordering_key is not null;

alter table feyxa.monitor_actions drop constraint if exists monitor_actions_kind_check;
alter table feyxa.monitor_actions add constraint monitor_actions_kind_check
  check (kind in ('retry', 'redrive', 'replay', 'discard', 'cancel'));

-- Settings per event type. Exact types (one primary-key probe per emit); none: the defaults.
create table feyxa.event_type_settings (
  event_type   text primary key check (feyxa.event_type_is_valid(event_type)),
  priority     smallint check (priority between 0 and 1000),
  ordered      boolean not null default false,
  on_dead_head text not null default 'hold' check (on_dead_head in ('hold', 'skip')),
  updated_at   timestamptz not null default now()
);
comment on table feyxa.event_type_settings is
  'Flow control per event type: default priority, order per aggregate, and what a dead head of a line does (hold its line, or skip). Written by configure_event_type.';
alter table feyxa.event_type_settings enable row level security;
revoke all on feyxa.event_type_settings from public, anon, authenticated;
grant all on feyxa.event_type_settings to service_role;

-- The last place handed out in each ordering key's line. Its row is the key's lock: an
-- emitter holds it from its upsert to its commit, and so does whoever releases the next
-- event of the line, so a release never misses an event emitted at the same time.
create table feyxa.ordering_keys (
  ordering_key text primary key,
  last_seq     bigint not null
);
comment on table feyxa.ordering_keys is
  'Internal: the last ordering_seq of each ordering key with open events; its row serialises the key''s emitters and releases. Removed when the line empties.';
alter table feyxa.ordering_keys enable row level security;
revoke all on feyxa.ordering_keys from public, anon, authenticated;
grant all on feyxa.ordering_keys to service_role;

create function feyxa.configure_event_type(
  p_event_type text, p_priority int default null, p_ordered boolean default false, p_on_dead_head text default 'hold'
)
returns feyxa.event_type_settings
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_row event_type_settings;
begin
  if p_event_type is null or not event_type_is_valid(p_event_type) then
    raise exception using errcode = '22023', message = 'event_type must be lowercase words joined by dots', detail = 'event_type';
  end if;
  if p_priority is not null and p_priority not between 0 and 1000 then
    raise exception using errcode = '22023', message = 'priority must be between 0 and 1000', detail = 'priority';
  end if;
  if p_on_dead_head is null or p_on_dead_head not in ('hold', 'skip') then
    raise exception using errcode = '22023', message = 'on_dead_head must be hold or skip', detail = 'on_dead_head';
  end if;
  insert into event_type_settings as s (event_type, priority, ordered, on_dead_head)
  values (p_event_type, p_priority, coalesce(p_ordered, false), p_on_dead_head)
  on conflict (event_type) do update
    set priority = excluded.priority, ordered = excluded.ordered, on_dead_head = excluded.on_dead_head, updated_at = now()
  returning * into v_row;
  return v_row;
end;
$$;
comment on function feyxa.configure_event_type(text, int, boolean, text) is
  'Sets the flow control of an event type: its default priority (0 to 1000 seconds of head start; null: 0), whether its events are handled one at a time per aggregate in emit order, and whether a dead head holds its line (hold) or lets it move on (skip). Applies to events emitted afterwards.';

-- A prioritised queue row's due_at is its real due time minus the priority; the real one
-- goes to not_before. Applied to every write of due_at on an unleased row (an emit, a
-- retry's backoff, a reaped lease, a release), so callers keep writing real due times.
-- The WHEN clause keeps unprioritised rows from ever calling it.
create function feyxa.queue_priority_shift()
returns trigger
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  new.not_before := new.due_at;
  new.due_at := new.due_at - make_interval(secs => new.priority);
  return new;
end;
$$;
comment on function feyxa.queue_priority_shift() is
  'Trigger: moves a prioritised queue row''s due_at earlier by its priority (seconds), keeping the real due time in not_before.';
create trigger event_queue_priority_shift
  before insert or update of due_at on feyxa.event_queue
  for each row when (new.priority <> 0 and new.locked_by is null)
  execute function feyxa.queue_priority_shift();

-- Lets the next event of a line go: called when the event ahead stops blocking it. Takes
-- the key's lock first (emitters hold it until they commit), then releases the earliest
-- held event if nothing of the line is still unheld. A line with nothing left forgets its key.
create function feyxa.release_next_in_line(p_ordering_key text)
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_next uuid;
begin
  perform 1 from ordering_keys where ordering_key = p_ordering_key for update;
  if exists (select 1 from event_queue where ordering_key = p_ordering_key and not held) then
    return;
  end if;
  select q.event_id into v_next from event_queue q
  where q.ordering_key = p_ordering_key and q.held
  order by q.ordering_seq limit 1;
  if v_next is null then
    delete from ordering_keys where ordering_key = p_ordering_key;
    return;
  end if;
  update event_queue q set held = false, due_at = greatest(now(), coalesce(e.deliver_at, now()))
  from events_log e
  where q.event_id = v_next and e.id = v_next;
end;
$$;
comment on function feyxa.release_next_in_line(text) is
  'Internal: releases the earliest held event of an ordering key once nothing ahead of it is left; forgets the key when its line is empty.';

create function feyxa.queue_line_moved()
returns trigger
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  perform release_next_in_line(old.ordering_key);
  return null;
end;
$$;
comment on function feyxa.queue_line_moved() is 'Trigger: an ordered event left its line (queue row deleted, or it stopped blocking): the next one may go.';
create trigger event_queue_line_left
  after delete on feyxa.event_queue
  for each row when (old.ordering_key is not null)
  execute function feyxa.queue_line_moved();
-- Not `update of ordering_key`: the dead-head trigger below clears it, and a column list
-- counts only the columns an UPDATE names.
create trigger event_queue_line_unblocked
  after update on feyxa.event_queue
  for each row when (old.ordering_key is not null and new.ordering_key is null)
  execute function feyxa.queue_line_moved();

-- A head of a line that goes dead (its queue row parked at infinity, unheld) stops
-- blocking when its type says skip.
create function feyxa.queue_dead_head()
returns trigger
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  if exists (select 1 from events_log e join event_type_settings s on s.event_type = e.event_type
             where e.id = new.event_id and s.on_dead_head = 'skip') then
    new.ordering_key := null;
  end if;
  return new;
end;
$$;
comment on function feyxa.queue_dead_head() is 'Trigger: a dead head of a line whose type says on_dead_head = skip stops blocking its line.';
create trigger event_queue_dead_head
  before update of due_at on feyxa.event_queue
  for each row when (old.ordering_key is not null and new.due_at = 'infinity' and not new.held and new.locked_by is null)
  execute function feyxa.queue_dead_head();

-- The emit functions take the flow-control options. Dropped and created again: their
-- parameters change. As in 20261127930000, plus:
--   p_deliver_at    not before this time (null or past: at once)
--   p_priority      0 to 1000 seconds of head start (null: the type's, else 0)
--   p_ordering_key  the line to wait in (null: type:aggregate when the type is ordered,
--                   else none). Naming a key orders the event whatever its type.
drop function feyxa.append_to_stream(text, text, uuid, uuid, jsonb, int, text);
drop function feyxa.emit_event(text, text, uuid, uuid, jsonb, text);
drop function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text);

create function feyxa.emit_event_report(
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

  -- As in 20261127930000: the event and its queue row in one statement with the settings.
  with settings as (
    select default_max_retries, once_per_aggregate, functions_url,
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
    insert into event_queue as q (event_id, due_at, priority, held, ordering_key, ordering_seq)
    select ins.id, case when v_held then 'infinity' else greatest(ins.created_at, coalesce(p_deliver_at, ins.created_at)) end,
           v_priority, v_held, v_line, v_seq
    from ins
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

create function feyxa.emit_event(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_tenant_id uuid,
  p_payload jsonb, p_idempotency_key text default null,
  p_deliver_at timestamptz default null, p_priority int default null, p_ordering_key text default null
)
returns uuid
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  select event_id from emit_event_report(p_event_type, p_aggregate_type, p_aggregate_id, p_tenant_id, p_payload,
                                         p_idempotency_key, p_deliver_at, p_priority, p_ordering_key)
$$;

-- The flow-control options of an emit, checked; p_prefix names the element of a batch.
create function feyxa.assert_flow_input(p_deliver_at timestamptz, p_priority int, p_ordering_key text, p_prefix text)
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
comment on function feyxa.assert_flow_input(timestamptz, int, text, text) is
  'Validates an emit''s flow-control options (deliver_at, priority, ordering_key), naming the field.';

-- emit_events: the batch gains the same options per element: deliver_at (a time), delay
-- (seconds from now), priority, ordering_key. A batch with an ordered element is emitted
-- element by element, in array order, through emit_event_report (each line's lock and
-- place); otherwise as before, in one statement.
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
    returning id, created_at
  ), queued as (
    insert into event_queue (event_id, due_at) select ins.id, ins.created_at from ins
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

-- A batch element's flow-control options, checked: deliver_at a time, delay seconds (not
-- both), priority an integer, ordering_key a string.
create function feyxa.assert_flow_element(p_event jsonb, p_prefix text)
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
comment on function feyxa.assert_flow_element(jsonb, text) is
  'Validates a batch element''s flow-control options (deliver_at, delay, priority, ordering_key), naming the field.';

-- As in 20261127930000 (append_to_stream calls emit_event_report, whose signature grew).
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

-- The claims respect a prioritised event's real due time (not_before). As in
-- 20261123000003 otherwise: held events wait at 'infinity', out of the claim's range.
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
  -- As in 20261123000003: a claim's own transaction does not wait for its WAL.
  if txid_current_if_assigned() is null then
    perform set_config('synchronous_commit', 'off', true);
  end if;

  perform reap_expired_leases();

  v_ids := array(
    select event_id from event_queue
    where locked_by is null and due_at <= now() and (not_before is null or not_before <= now())
    order by due_at
    limit p_limit
    for update skip locked);
  return query select * from lease_events(v_ids, p_worker, p_lease);
  get diagnostics v_taken = row_count;
  if v_taken < cardinality(v_ids) then
    perform tidy_event_queue(v_ids);
  end if;
end;
$$;

create or replace function feyxa.claim_event(p_event_id uuid, p_worker text, p_lease interval default interval '30 seconds')
returns setof feyxa.claimed_event
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_ids uuid[];
begin
  perform assert_claim_input(p_worker, p_lease);
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

-- Cancel: a pending event (scheduled, held in its line, or due but not yet taken) will
-- never run. Terminal, like discarded; the reason is kept in error_message and the audit row.
create function feyxa.cancel_event(p_action_id uuid, p_event_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, 'cancel', jsonb_build_object('event_id', p_event_id, 'reason', p_reason));
  v_event events_log;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  if p_reason is null or length(btrim(p_reason)) not between 1 and 500 then
    raise exception using errcode = '22023', message = 'reason must be 1 to 500 characters', detail = 'reason';
  end if;
  v_event := lock_event_for_operator(p_event_id);
  if v_event.status = 'cancelled' then
    return operator_finish_action(p_action_id, jsonb_build_object('changed', false, 'status', 'cancelled'));
  end if;
  if v_event.status <> 'pending' then
    raise exception using errcode = '55000', detail = 'event_id',
      message = format('only a pending event can be cancelled (this one is %s; a failed or dead one can be discarded)', v_event.status);
  end if;
  update events_log set status = 'cancelled', processed_at = now(), updated_at = now(),
    error_message = left('cancelled: ' || btrim(p_reason), 4000)
  where id = p_event_id;
  delete from event_queue where event_id = p_event_id;
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', 'cancelled', 'previous_status', 'pending'));
end;
$$;

-- The monitor's open statuses and the purge: cancelled is terminal like discarded.
create or replace function feyxa.tidy_event_queue(p_event_ids uuid[])
returns void
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  with stale as (
    select q.event_id, e.status, e.locked_by, e.locked_until
    from event_queue q left join events_log e on e.id = q.event_id
    where q.event_id = any (p_event_ids) and q.locked_by is null
      and (e.id is null or e.status not in ('pending', 'failed'))
  ), gone as (
    delete from event_queue q using stale s
    where q.event_id = s.event_id and (s.status is null or s.status in ('completed', 'discarded', 'cancelled'))
  )
  update event_queue q set
    due_at = case when s.status = 'dead' then 'infinity' else coalesce(s.locked_until, now()) end,
    locked_by = case when s.status = 'processing' then s.locked_by end
  from stale s where q.event_id = s.event_id and s.status in ('dead', 'processing')
$$;

comment on function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text, timestamptz, int, text) is
  'emit_event that also reports whether the event is new (inserted) or a duplicate of an existing idempotency key, or of one kept after its event was purged (event_id is then the purged event''s). Listeners are woken at commit.';
comment on function feyxa.emit_event(text, text, uuid, uuid, jsonb, text, timestamptz, int, text) is
  'THE entry point of the bus: stores an event in the caller''s transaction and wakes the dispatchers; optionally not before p_deliver_at, with a priority (seconds of head start), in an ordering key''s line. Returns its id (the existing one for a duplicate idempotency key).';
comment on function feyxa.emit_events(jsonb) is
  'Batch emit_event for bulk producers: each element {event_type, aggregate_type, aggregate_id, tenant_id?, payload?, idempotency_key?, deliver_at? | delay?, priority?, ordering_key?}; validates every element (all or nothing, the error names events[i].field). Returns each element''s event id and whether it was new.';
comment on function feyxa.append_to_stream(text, text, uuid, uuid, jsonb, int, text) is
  'Emits an event onto an aggregate''s versioned stream; with an expected version, fails (55000) when another writer got there first.';
comment on function feyxa.claim_events(text, int, interval) is
  'Claims up to p_limit due events (failed and due, expired leases, pending; a prioritised one ahead by its priority, never before its real due time) for a worker, under a renewable lease. Returns them with the handlers that already succeeded.';
comment on function feyxa.claim_event(uuid, text, interval) is
  'Claims one event by id if it is due (pending, or failed and due; not held, not scheduled later). No row when it is not.';
comment on function feyxa.cancel_event(uuid, uuid, text) is
  'Operator transition: a pending event (scheduled, held or due) becomes cancelled (terminal, off the queue, never run), with the reason. Audited, idempotent per action id.';
comment on function feyxa.tidy_event_queue(uuid[]) is
  'Internal to the claim functions: drops queue rows of completed, discarded, cancelled or missing events, parks those of dead events at infinity, hands those of processing events to the reaper.';

-- cancel_event checks its caller itself (assert_event_operator), as the other transitions:
-- the monitor calls it as the operator, the server as itself.
revoke all on function feyxa.cancel_event(uuid, uuid, text) from public, anon, authenticated;
grant execute on function feyxa.cancel_event(uuid, uuid, text) to authenticated, service_role;

-- The server role calls these; the API roles never do.
do $$
declare
  f text;
begin
  foreach f in array array[
    'feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text, timestamptz, int, text)',
    'feyxa.emit_event(text, text, uuid, uuid, jsonb, text, timestamptz, int, text)',
    'feyxa.append_to_stream(text, text, uuid, uuid, jsonb, int, text)',
    'feyxa.configure_event_type(text, int, boolean, text)',
    'feyxa.assert_flow_input(timestamptz, int, text, text)',
    'feyxa.assert_flow_element(jsonb, text)',
    'feyxa.release_next_in_line(text)',
    'feyxa.queue_priority_shift()', 'feyxa.queue_line_moved()', 'feyxa.queue_dead_head()'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
