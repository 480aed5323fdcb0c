-- Flow control (issue 14), first of four: what it keeps. The columns an event and its
-- queue row carry, the settings per event type and per tenant, the ordering lines' keys,
-- and the functions that configure them. The queue's triggers follow (…000001), then
-- the emit (…000002) and the claims (…000003). With none of it in use an event is queued,
-- claimed and completed exactly as before: every new step is skipped by a null or a zero.
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
--   fairness        when on (configure_tenant_fairness), every open queue row carries its
--                   tenant's lane (event_queue.tenant_id; events without a tenant share one
--                   lane, the nil uuid), and a claim serves the lanes that have due events in
--                   turn: the lanes whose oldest due event has waited longest first, an equal
--                   share of the batch each, then the rest of the batch to whoever still has
--                   due events and room. A capped lane is served by one claim at a time (a
--                   transaction-scoped advisory lock, tried, never waited for), which counts
--                   its leased events and takes no more than its room: the cap holds across
--                   dispatchers. The lanes' indexes hold only rows with a lane, so the bus
--                   pays for them only when on.
--   cancel          cancel_event: a pending event (scheduled, held or due) becomes cancelled,
--                   terminal, audited, with its reason.

-- What the emitter asked for, kept with the event (the monitor shows it).
alter table feyxa.events_log
  add column deliver_at   timestamptz,
  add column priority     smallint not null default 0 check (priority between 0 and 1000),
  add column ordering_key text collate "C" check (length(ordering_key) between 1 and 200),
  add column ordering_seq bigint;
comment on column feyxa.events_log.deliver_at is 'When the emitter asked the event to be delivered (null: at once). Pending before then: scheduled.';
comment on column feyxa.events_log.priority is 'Head start in the claim, in seconds (0 to 1000; 0: none).';
comment on column feyxa.events_log.ordering_key is 'The line the event waits in: events of one key are handled one at a time, in ordering_seq order. Null: unordered.';
comment on column feyxa.events_log.ordering_seq is 'The event''s place in its ordering key''s line, assigned at emit under the key''s lock.';
-- Each line's events in order, for the monitor (which event a held one waits behind). Only
-- ordered events are in it, and neither column ever changes: their updates stay HOT.
create index events_log_line_idx on feyxa.events_log (ordering_key, ordering_seq) where ordering_key is not null;

alter table feyxa.events_log drop constraint if exists events_log_status_check;
alter table feyxa.events_log add constraint events_log_status_check
  check (status in ('pending', 'processing', 'completed', 'failed', 'dead', 'discarded', 'cancelled')) not valid;
alter table feyxa.events_log validate constraint events_log_status_check;

alter table feyxa.event_queue
  add column priority     smallint not null default 0,
  add column not_before   timestamptz,
  add column held         boolean not null default false,
  add column ordering_key text collate "C",
  add column ordering_seq bigint;
comment on column feyxa.event_queue.not_before is 'For a prioritised event, its real due time (due_at is moved earlier by its priority); for a held one, its delivery time (deliver_at) once released. Null otherwise.';
comment on column feyxa.event_queue.held is 'Waiting for the event before it in its ordering key''s line (due_at is then infinity).';
comment on column feyxa.event_queue.ordering_key is 'Set while the event blocks the later events of its key: until it leaves the queue (or goes dead, with on_dead_head = skip).';
-- Each line's held events, in order: which is next. Only held rows: a line's head (unheld)
-- is claimed, leased and completed like any event, and an entry here would cost each of
-- those updates an index insert. Keys compare bytewise (collate "C"): a line is an identity,
-- not text to sort for people, and libc's collation cost the release a tenth of its time.
create index event_queue_held_idx on feyxa.event_queue (ordering_key, ordering_seq) where held;

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
  ordering_key text collate "C" primary key,
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
-- A capped lane's events in flight are counted among the leased rows (event_queue_lease_idx,
-- as many as the dispatchers hold), not through an index of their own: one would cost every
-- lease an index insert, caps or not.

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

do $$
declare
  f text;
begin
  foreach f in array array[
    'feyxa.configure_event_type(text, int, boolean, text)',
    'feyxa.configure_tenant_fairness(boolean, int)', 'feyxa.set_tenant_limit(uuid, int)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
