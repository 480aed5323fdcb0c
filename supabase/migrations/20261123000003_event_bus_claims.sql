-- The state machine of an event, first half: taking events and holding them. Every client
-- (the Node dispatcher, the process-event and retry-failed-events Edge Functions) moves
-- events only through these functions and complete_attempts (20261123000004), which keep
-- event_queue (what is open, and when it is due) in step with events_log.
--
--   pending --claim--> processing --complete_attempts--> completed
--                          |                         \-> failed --(next_retry_at)--> claimed again
--                          |                         \-> dead     (retries exhausted, or refused for good)
--                          |--release_events--> pending         (graceful shutdown)
--                          \--lease expired--> failed / dead    (the worker vanished)

-- What a worker gets for each event it claims.
do $$ begin
  create type claimed_event as (
    id uuid, event_type text, aggregate_type text, aggregate_id uuid, store_id uuid, payload jsonb,
    idempotency_key text, attempt int, retry_count int, max_retries int, created_at timestamptz,
    succeeded_handlers text[]
  );
exception when duplicate_object then null;
end $$;
-- Events whose worker stopped renewing its lease (crashed, killed, partitioned) come
-- back: the lost attempt counts as a failure, due at once, or dead when it was the last.
-- Counting it matters: an event that kills its worker every time must end, not loop.
create or replace function reap_expired_leases(p_limit int default 1000)
returns int
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_count int;
begin
  with expired as (
    select event_id from event_queue
    where locked_by is not null and due_at < now()
    order by due_at
    limit p_limit
    for update skip locked
  ), reaped as (
    update events_log e set
      status        = case when e.retry_count >= e.max_retries then 'dead' else 'failed' end,
      retry_count   = least(e.retry_count + 1, e.max_retries),
      next_retry_at = case when e.retry_count >= e.max_retries then null else now() end,
      processed_at  = case when e.retry_count >= e.max_retries then now() end,
      error_message = format('lease expired: worker %s stopped renewing during attempt %s', e.locked_by, e.attempt),
      locked_by = null, locked_until = null, updated_at = now()
    from expired where e.id = expired.event_id and e.status = 'processing'
    returning e.id, e.status
  ), requeued as (
    update event_queue q set locked_by = null,
                             due_at = case when r.status = 'dead' then 'infinity'::timestamptz else now() end
    from expired x left join reaped r on r.id = x.event_id
    where q.event_id = x.event_id
  )
  select count(*) into v_count from reaped;
  return v_count;
end;
$$;
comment on function reap_expired_leases(int) is
  'Takes back events whose lease ran out: failed and due now, or dead if that was their last retry. Returns how many.';

-- Puts the given events (their event_queue rows already locked by the caller) under
-- p_worker's lease and starts their next attempt. The one place an event enters
-- 'processing'. Only pending and failed events start; the caller tidies the rest.
create or replace function lease_events(p_event_ids uuid[], p_worker text, p_lease interval)
returns setof claimed_event
language sql
security definer
set search_path = public, pg_catalog
as $$
  with leased as (
    update events_log e set
      status = 'processing', attempt = e.attempt + 1, locked_by = p_worker, locked_until = now() + p_lease,
      next_retry_at = null, first_claimed_at = coalesce(e.first_claimed_at, now()), updated_at = now()
    where e.id = any (p_event_ids) and e.status in ('pending', 'failed')
    returning e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.store_id, e.payload, e.idempotency_key,
              e.attempt, e.retry_count, e.max_retries, e.created_at
  ), held as (
    update event_queue q set locked_by = p_worker, due_at = now() + p_lease
    from leased l where q.event_id = any (p_event_ids) and q.event_id = l.id
  )
  select l.id, l.event_type, l.aggregate_type, l.aggregate_id, l.store_id, l.payload, l.idempotency_key,
         l.attempt, l.retry_count, l.max_retries, l.created_at,
         -- a first attempt has nothing to skip: spare the lookup on the hot path
         case when l.attempt = 1 then '{}'::text[]
              else array(select h.handler_name from event_handlers_log h where h.event_id = l.id and h.status = 'success') end
  from leased l
$$;
comment on function lease_events(uuid[], text, interval) is
  'Internal to the claim functions: starts the next attempt of row-locked events under a worker''s lease; returns them with the handlers that already succeeded.';
revoke all on function lease_events(uuid[], text, interval) from public;

create or replace function assert_claim_input(p_worker text, p_lease interval)
returns void
language plpgsql immutable
set search_path = public, pg_catalog
as $$
begin
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'worker must be 1 to 200 characters', detail = 'worker';
  end if;
  if p_lease is null or p_lease < interval '1 second' or p_lease > interval '1 hour' then
    raise exception using errcode = '22023', message = 'lease must be between 1 second and 1 hour', detail = 'lease';
  end if;
end;
$$;
comment on function assert_claim_input(text, interval) is 'Validates a worker name and a lease length for the claim functions.';

-- Takes up to p_limit due events for worker p_worker, under a lease of p_lease that the
-- worker renews while it works. Due: pending events and failed ones whose retry time has
-- come (which includes what reap_expired_leases just gave back), in the order they
-- became due.
-- SKIP LOCKED lets any number of workers claim side by side without waiting on, or
-- taking, each other's rows.
create or replace function claim_events(p_worker text, p_limit int default 50, p_lease interval default interval '30 seconds')
returns setof claimed_event
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_ids   uuid[];
  v_taken int;
begin
  perform assert_claim_input(p_worker, p_lease);
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 10000', detail = 'limit';
  end if;

  -- A claim in a transaction of its own (how workers claim) commits without waiting for
  -- its WAL to reach the disk. Nothing is lost if the server crashes before it does: the
  -- lease was never durable, so the event is simply due again, and at-least-once
  -- delivery is what the bus promises anyway. The completion that follows does wait: a
  -- handler's success row is durable before the event counts as completed.
  if txid_current_if_assigned() is null then
    perform set_config('synchronous_commit', 'off', true);
  end if;

  perform reap_expired_leases();

  v_ids := array(
    select event_id from event_queue
    where locked_by is null and due_at <= now()
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
comment on function claim_events(text, int, interval) is
  'Claims up to p_limit due events (failed and due, expired leases, then pending) for a worker, under a renewable lease. Returns them with the handlers that already succeeded.';

-- Claims one given event if it is due (pending, or failed with its retry time come).
-- Returns no row when it is not: someone else holds it, it is finished, or not yet due.
create or replace function claim_event(p_event_id uuid, p_worker text, p_lease interval default interval '30 seconds')
returns setof claimed_event
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_ids uuid[];
begin
  perform assert_claim_input(p_worker, p_lease);
  v_ids := array(
    select event_id from event_queue
    where event_id = p_event_id and locked_by is null and due_at <= now()
    for update skip locked);
  return query select * from lease_events(v_ids, p_worker, p_lease);
  if not found and cardinality(v_ids) > 0 then
    perform tidy_event_queue(v_ids);
  end if;
end;
$$;
comment on function claim_event(uuid, text, interval) is
  'Claims one event by id if it is due (pending, or failed and due). No row when it is not.';

-- Extends the leases a live worker still holds. Returns the ids it still holds: an id
-- missing from the answer was taken back (the worker was too slow) and must not be finished.
create or replace function renew_leases(p_worker text, p_event_ids uuid[], p_lease interval default interval '30 seconds')
returns setof uuid
language sql
security definer
set search_path = public, pg_catalog
as $$
  with renewed as (
    update event_queue set due_at = now() + p_lease
    where event_id = any (p_event_ids) and locked_by = p_worker
    returning event_id
  ), shown as (
    update events_log e set locked_until = now() + p_lease, updated_at = now()
    from renewed r where e.id = r.event_id
  )
  select event_id from renewed
$$;
comment on function renew_leases(text, uuid[], interval) is
  'Heartbeat: extends the leases the worker still holds on the given events; returns those ids.';

-- Gives events back (a worker shutting down before their handlers finished): pending
-- again, not counted as a failure. The attempt number stays, so that rows a late
-- handler still writes for that attempt never collide with the next one's.
create or replace function release_events(p_worker text, p_event_ids uuid[])
returns int
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_count int;
begin
  with released as (
    update events_log set status = 'pending', locked_by = null, locked_until = null, updated_at = now()
    where id = any (p_event_ids) and status = 'processing' and locked_by = p_worker
    returning id
  ), requeued as (
    update event_queue q set locked_by = null, due_at = now()
    from released r where q.event_id = any (p_event_ids) and q.event_id = r.id
  )
  select count(*) into v_count from released;
  return v_count;
end;
$$;
comment on function release_events(text, uuid[]) is
  'Returns events a worker holds to pending without counting a failure (graceful shutdown).';

-- Puts events back on the queue, due at p_due_at and held by no one: an event an operator
-- retries, re-drives or reopens. Its events_log row is the caller's to update.
create or replace function enqueue_events(p_event_ids uuid[], p_due_at timestamptz default now())
returns void
language sql
security definer
set search_path = public, pg_catalog
as $$
  insert into event_queue (event_id, due_at)
  select id, p_due_at from unnest(p_event_ids) id
  on conflict (event_id) do update set due_at = excluded.due_at, locked_by = null
$$;
comment on function enqueue_events(uuid[], timestamptz) is
  'Makes events due at p_due_at (now by default) in event_queue, unleased; inserts their queue rows if they have none.';
revoke all on function enqueue_events(uuid[], timestamptz) from public;

-- Brings queue rows that a claim took but could not start back in line with their events:
-- an event that is completed or gone leaves the queue, a dead one waits at 'infinity'.
-- (Only a hand-edited events_log gets there: the state functions keep the two in step.)
create or replace function tidy_event_queue(p_event_ids uuid[])
returns void
language sql
security definer
set search_path = public, pg_catalog
as $$
  with stale as (
    select q.event_id, e.status, e.locked_by, e.locked_until
    from event_queue q left join events_log e on e.id = q.event_id
    where q.event_id = any (p_event_ids) and q.locked_by is null
      and (e.id is null or e.status not in ('pending', 'failed'))
  ), gone as (
    delete from event_queue q using stale s
    where q.event_id = s.event_id and (s.status is null or s.status = 'completed')
  )
  update event_queue q set
    due_at = case when s.status = 'dead' then 'infinity' else coalesce(s.locked_until, now()) end,
    locked_by = case when s.status = 'processing' then s.locked_by end
  from stale s where q.event_id = s.event_id and s.status in ('dead', 'processing')
$$;
comment on function tidy_event_queue(uuid[]) is
  'Internal to the claim functions: drops queue rows of completed or missing events, parks those of dead events at infinity, hands those of processing events to the reaper.';
revoke all on function tidy_event_queue(uuid[]) from public;
