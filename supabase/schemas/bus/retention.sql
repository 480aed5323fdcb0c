-- Retention: completed events, with their handler rows, older than
-- event_bus_settings.retention (30 days by default) are purged in small batches, by the
-- scheduler every 10 minutes (cron.sql; npm start's scheduler locally). Failed and dead
-- events are never purged automatically: they are work or evidence an operator still needs.
-- Events of an event-sourced stream (streams.sql) are history and stay.
--
-- An emit's idempotency key outlives its event: the purge moves each key into
-- purged_event_keys, in the statement that deletes the event, and the emit functions answer
-- a remembered key as a duplicate of the original event (emit.sql). Without it, a fact
-- re-emitted after the purge (a buyer's re-asked order.created) would run again. A key is
-- remembered until event_bus_settings.idempotency_horizon after its event was created (90
-- days by default: settings.sql says why), then forgotten by the purge itself, in bounded
-- batches. Incoming webhooks keep their provider ids for good in processed_webhooks
-- (webhooks.sql); this is the emitters' counterpart. docs/reliability.md.

-- The key text itself, not a hash of it: exact (no collision to argue about), and at
-- the ~50 bytes of a typical key (order.created:<uuid>) a 16-byte digest would save
-- little (about 70 of the 260 bytes a key takes with its indexes, measured over 500,000
-- order.created keys) while costing every checked emit a hash.
create table feyxa.purged_event_keys (
  idempotency_key text primary key,
  -- the original event, the answer to a re-emit
  event_id uuid not null,
  event_type text not null,
  -- the event's; the horizon counts from it
  created_at timestamptz not null,
  purged_at timestamptz default now() not null
);
alter table feyxa.purged_event_keys enable row level security;
comment on table feyxa.purged_event_keys is 'Idempotency keys of completed events the retention purge deleted, kept until idempotency_horizon after their event''s creation: a re-emit of one is a duplicate of event_id.';
grant all on table feyxa.purged_event_keys to service_role;

-- What the purge forgets, oldest first, a bounded batch at a time.
create index purged_event_keys_created_idx on feyxa.purged_event_keys (created_at);

-- One bounded batch: deletes up to p_batch completed events processed before now() -
-- retention, keeps the keys of those still within the horizon (in the same statement, so no
-- moment exists where a key is in neither table), and forgets up to p_batch keys past the
-- horizon. Rows are taken with SKIP LOCKED, so the purge never waits on (or blocks) a
-- worker; each call is one short transaction. Returns the larger of the two counts: call
-- again while it returns p_batch, and both drain.
-- The events are found oldest first by creation, through events_log_created_idx: an event
-- completes after it is created, so every event to purge lies below the same bound on
-- created_at. (No index on status or processed_at: it would cost every claim and completion
-- its HOT update.) Failed and dead events that old are stepped over; there are few of them.
-- Their handler runs go with them (event_handlers_log has no foreign key to cascade).
create or replace function feyxa.purge_completed_events(p_batch integer default 5000)
returns integer
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_purged    int;
  v_forgotten int;
  v_horizon   interval := (select idempotency_horizon from event_bus_settings);
begin
  if p_batch is null or p_batch not between 1 and 100000 then
    raise exception using errcode = '22023', message = 'batch must be between 1 and 100000', detail = 'batch';
  end if;
  -- The oldest completed events first, through events_log_created_idx (the comment above says why).
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
comment on function feyxa.purge_completed_events(integer) is 'Purges one bounded batch of completed events older than event_bus_settings.retention (with their handler rows), keeping their idempotency keys in purged_event_keys, and forgets up to p_batch kept keys older than idempotency_horizon. Returns the larger count. Never touches failed or dead events, nor events of an event-sourced stream.';
revoke all on function feyxa.purge_completed_events(integer) from public;
grant execute on function feyxa.purge_completed_events(integer) to service_role;
