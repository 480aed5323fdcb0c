-- Claims: taking events and holding them, the first half of an event's state machine
-- (events.sql; completion.sql is the second). Every client (the Node dispatcher, the
-- process-event and retry-failed-events Edge Functions; src/bus/bus-sql.ts) moves events
-- only through these functions and complete_attempts, which keep event_queue in step with
-- events_log.
--
-- A claim takes due rows of event_queue with FOR UPDATE SKIP LOCKED, so any number of
-- workers claim side by side without waiting on, or taking, each other's rows; due means
-- unleased, due_at come, and, for a prioritised event, its real due time (not_before) come
-- too. Held and dead events wait at 'infinity', out of every claim's range. lease_events
-- then starts the next attempt of each: the one place an event enters 'processing'.
--
-- A worker holds what it claimed under a lease (events_log.locked_by and locked_until; the
-- queue row's due_at is its end), renews it while its handlers run and gives back what it
-- still holds when it shuts down. A lease that runs out is taken back by the next claim.
--
-- A claim in a transaction of its own (how workers claim) commits without waiting for its
-- WAL to reach the disk. Nothing is lost if the server crashes before it does: the lease
-- was never durable, so the event is simply due again, and at-least-once delivery is what
-- the bus promises anyway. The completion that follows does wait: a handler's success row
-- is durable before the event counts as completed.
--
-- With tenant fairness on (flow-control.sql), claim_events serves the tenants' lanes in
-- turn (fair_claimable), and a claim by id respects a capped lane's room.
--
-- jit = off on the claims, as on the emit (emit.sql): on a table not analyzed yet (a new
-- project) the planner's guesses can make a server built with LLVM (Debian's PostgreSQL
-- 15) JIT-compile a claim; the setting costs a few microseconds a call.

-- What a worker gets for each event it claims.
create type feyxa.claimed_event as (
  id uuid, event_type text, aggregate_type text, aggregate_id uuid, tenant_id uuid, payload jsonb,
  idempotency_key text, attempt int, retry_count int, max_retries int, created_at timestamptz,
  succeeded_handlers text[],  -- what an earlier attempt already ran: this one skips them
  trace_parent text,          -- the emitter's span, which the attempt continues
  causation_id uuid,          -- the event's story (events.sql): what its handlers emit is caused by it
  correlation_id uuid
);

create or replace function feyxa.assert_claim_input(p_worker text, p_lease interval)
returns void
language plpgsql immutable
set search_path = feyxa, pg_catalog
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
comment on function feyxa.assert_claim_input(text,interval) is 'Validates a worker name and a lease length for the claim functions.';
revoke all on function feyxa.assert_claim_input(text,interval) from public;
grant execute on function feyxa.assert_claim_input(text,interval) to service_role;

-- Takes back events whose worker stopped renewing its lease: the lost attempt counts as a
-- failure, due at once (a prioritised one keeps its head start), or dead when it was the
-- last, which may let its ordering line go (skip_dead_heads).
create or replace function feyxa.reap_expired_leases(p_limit int default 1000)
returns int
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_count int;
  v_dead  uuid[];
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
      due_at = case when r.status = 'dead' then 'infinity'::timestamptz else now() - make_interval(secs => q.priority) end,
      not_before = case when q.priority <> 0 and r.status is distinct from 'dead' then now() end
    from expired x left join reaped r on r.id = x.event_id
    where q.event_id = x.event_id
  )
  select count(*), array_agg(reaped.id) filter (where reaped.status = 'dead') into v_count, v_dead from reaped;
  if v_dead is not null then
    perform skip_dead_heads(v_dead);
  end if;
  return v_count;
end;
$$;
comment on function feyxa.reap_expired_leases(integer) is 'Takes back events whose lease ran out: failed and due now, or dead if that was their last retry. Returns how many.';
revoke all on function feyxa.reap_expired_leases(integer) from public;
grant execute on function feyxa.reap_expired_leases(integer) to service_role;

-- Puts the given events (their event_queue rows already locked by the caller) under
-- p_worker's lease and starts their next attempt. The one place an event enters
-- 'processing'. Only pending and failed events start; the caller tidies the rest
-- (tidy_event_queue, completion.sql).
-- PL/pgSQL, not SQL, and plan_cache_mode = force_generic_plan: PostgreSQL (up to 17)
-- parses and plans every call of a SQL function it cannot inline (this one is security
-- definer, with its own search_path); with pg_stat_statements.track_planning on, 50 claims
-- made 50 plans of this update, about 0.4 ms a claim. A PL/pgSQL statement is planned once
-- per session and kept, and the generic plan is right since nothing in it depends on the
-- ids given (looked up by primary key). diagnose-flow: 68.5 against 70.0 µs of server CPU
-- per drained event; more for a trickle, whose claims carry a few events each.
create or replace function feyxa.lease_events(p_event_ids uuid[], p_worker text, p_lease interval)
returns setof feyxa.claimed_event
language plpgsql security definer
set search_path = feyxa, pg_catalog
set plan_cache_mode = force_generic_plan
as $$
begin
  return query
    with leased as (
      update events_log e set
        status = 'processing', attempt = e.attempt + 1, locked_by = p_worker, locked_until = now() + p_lease,
        next_retry_at = null, first_claimed_at = coalesce(e.first_claimed_at, now()), updated_at = now()
      where e.id = any (p_event_ids) and e.status in ('pending', 'failed')
      returning e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.tenant_id, e.payload, e.idempotency_key,
                e.attempt, e.retry_count, e.max_retries, e.created_at, e.trace_parent, e.causation_id, e.correlation_id
    ), held as (
      update event_queue q set locked_by = p_worker, due_at = now() + p_lease
      from leased l where q.event_id = any (p_event_ids) and q.event_id = l.id
    )
    -- Each column as claimed_event types it: RETURN QUERY, unlike a SQL function, does not
    -- take a domain (event_type_name, …) for its base type.
    select l.id::uuid, l.event_type::text, l.aggregate_type::text, l.aggregate_id::uuid, l.tenant_id::uuid, l.payload::jsonb,
           l.idempotency_key::text, l.attempt::int, l.retry_count::int, l.max_retries::int, l.created_at::timestamptz,
           -- a first attempt has nothing to skip: spare the lookup on the hot path
           case when l.attempt = 1 then '{}'::text[]
                else array(select h.handler_name from event_handlers_log h where h.event_id = l.id and h.status = 'success') end,
           l.trace_parent::text, l.causation_id::uuid, l.correlation_id::uuid
    from leased l;
end;
$$;
comment on function feyxa.lease_events(uuid[],text,interval) is 'Internal to the claim functions: starts the next attempt of row-locked events under a worker''s lease; returns them with the handlers that already succeeded, the emitter''s traceparent and the event''s story (causation, correlation).';
revoke all on function feyxa.lease_events(uuid[],text,interval) from public;
grant execute on function feyxa.lease_events(uuid[],text,interval) to service_role;

-- The fair claim's choice: up to p_limit due events, row-locked, served lane by lane, in
-- three statements whatever the number of lanes (npm run bench: a statement per lane cost
-- the drain two fifths of its speed):
--   1. up to p_limit lanes with a due event, in tenant order from a random point round to
--      it again (each lane's turn comes as often as any other's, and the claim reads only
--      the lanes it serves, however many tenants wait), each with its cap, and the lock of
--      each capped lane (a lane another claim is counting right now is left to that claim);
--   2. each lane gets an equal share of the batch, within its room: unbounded, or its cap
--      less what it has in flight, counted in this new statement's snapshot, which sees
--      every claim that held the lane's lock before us;
--   3. what is left of the batch goes in due order, to lanes without a cap of their own
--      (none when the bus sets a default cap).
-- jit = off: the planner overestimates its recursive skip scans and unnests (a
-- set-returning function counts 100 rows) enough to JIT-compile statements that run on a
-- handful of rows; none runs long enough for JIT to pay off.
create or replace function feyxa.fair_claimable(p_limit int)
returns uuid[]
language plpgsql security definer
set search_path = feyxa, pg_catalog
set jit = off
as $$
declare
  v_from   uuid := gen_random_uuid();
  v_lanes  uuid[];
  v_caps   int[];
  v_locked boolean[];
  v_ids    uuid[];
begin
  -- Skip scans of event_queue_lane_idx, one probe per lane: from v_from up, then from the
  -- first lane up to v_from.
  with recursive upper_lanes as (
    (select q.tenant_id, 1 as n from event_queue q
     where q.tenant_id >= v_from and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
     order by q.tenant_id limit 1)
    union all
    select (select q.tenant_id from event_queue q
            where q.tenant_id > l.tenant_id and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
            order by q.tenant_id limit 1), l.n + 1
    from upper_lanes l where l.tenant_id is not null and l.n < p_limit
  ), lower_lanes as (
    (select q.tenant_id, 1 as n from event_queue q
     where q.tenant_id < v_from and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
     order by q.tenant_id limit 1)
    union all
    select (select q.tenant_id from event_queue q
            where q.tenant_id > l.tenant_id and q.tenant_id < v_from and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
            order by q.tenant_id limit 1), l.n + 1
    from lower_lanes l
    where l.tenant_id is not null and l.n < p_limit - (select count(u.tenant_id) from upper_lanes u)
  ), served as (
    select lane.tenant_id,
           coalesce((select t.max_in_flight from tenant_limits t where t.tenant_id = lane.tenant_id),
                    (select s.tenant_max_in_flight from event_bus_settings s)) as cap
    from (select tenant_id from upper_lanes union all select tenant_id from lower_lanes) lane
    where lane.tenant_id is not null
  )
  select array_agg(served.tenant_id), array_agg(served.cap),
         array_agg(served.cap is null or pg_try_advisory_xact_lock(hashtextextended('feyxa.lane:' || served.tenant_id, 0)))
  into v_lanes, v_caps, v_locked
  from served;
  if v_lanes is null then
    return '{}'::uuid[];
  end if;

  with flights as (
    -- The capped lanes' events in flight, in one pass over the leased rows.
    select q.tenant_id, count(*)::int as n from event_queue q
    where v_caps is distinct from array_fill(null::int, array[cardinality(v_lanes)])
      and q.locked_by is not null and q.tenant_id = any (v_lanes)
    group by q.tenant_id
  )
  select coalesce(array_agg(x.event_id), '{}') into v_ids
  from unnest(v_lanes, v_caps, v_locked) as l(tenant_id, cap, locked)
  cross join lateral (
    select case when not l.locked then 0
                when l.cap is null then p_limit
                else greatest(l.cap - coalesce((select f.n from flights f where f.tenant_id = l.tenant_id), 0), 0) end as n) room
  cross join lateral (
    select q.event_id from event_queue q
    where q.tenant_id = l.tenant_id and q.locked_by is null and q.due_at < 'infinity' and q.due_at <= now()
      and (q.not_before is null or q.not_before <= now())
    order by q.due_at
    limit least(room.n, greatest(p_limit / cardinality(v_lanes), 1))
    for update skip locked) x;

  if cardinality(v_ids) < p_limit and (select s.tenant_max_in_flight is null from event_bus_settings s) then
    v_ids := v_ids || array(
      select q.event_id from event_queue q
      where q.locked_by is null and q.due_at <= now() and (q.not_before is null or q.not_before <= now())
        and q.event_id <> all (v_ids)
        and not exists (select 1 from tenant_limits t where t.tenant_id = q.tenant_id)
      order by q.due_at
      limit p_limit - cardinality(v_ids)
      for update skip locked);
  end if;
  return v_ids;
end;
$$;
comment on function feyxa.fair_claimable(integer) is 'Internal to claim_events when tenant_fairness is on: up to p_limit due events, row-locked, an equal share for each of up to p_limit tenant lanes (taken in turn from a random point, within each lane''s in-flight cap), then the rest in due order from lanes without a cap.';
revoke all on function feyxa.fair_claimable(integer) from public;
grant execute on function feyxa.fair_claimable(integer) to service_role;

-- Takes up to p_limit due events for worker p_worker, under a lease of p_lease that the
-- worker renews while it works: expired leases reaped first (their events due at once),
-- then pending and failed events in the order they became due (a prioritised one its
-- priority earlier, never before its real due time), or lane by lane when fairness is on.
create or replace function feyxa.claim_events(p_worker text, p_limit int default 50, p_lease interval default '30 seconds')
returns setof feyxa.claimed_event
language plpgsql security definer
set search_path = feyxa, pg_catalog
set jit = off
as $$
declare
  v_ids   uuid[];
  v_taken int;
begin
  perform assert_claim_input(p_worker, p_lease);
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 10000', detail = 'limit';
  end if;
  -- A claim's own transaction does not wait for its WAL (the header says why).
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
comment on function feyxa.claim_events(text,integer,interval) is 'Claims up to p_limit due events (failed and due, expired leases, pending; a prioritised one ahead by its priority, never before its real due time) for a worker, under a renewable lease. Returns them with the handlers that already succeeded.';
revoke all on function feyxa.claim_events(text,integer,interval) from public;
grant execute on function feyxa.claim_events(text,integer,interval) to service_role;

-- Claims one given event if it is due (pending, or failed with its retry time come; not
-- before its real due time). Returns no row when it is not: someone else holds it, it is
-- finished, held, or not yet due. With fairness on, a capped lane's event is claimed only
-- while its lane has room, counted under the lane's lock as the fair claim does.
create or replace function feyxa.claim_event(p_event_id uuid, p_worker text, p_lease interval default '30 seconds')
returns setof feyxa.claimed_event
language plpgsql security definer
set search_path = feyxa, pg_catalog
set jit = off
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
    -- The lane's lock first, in a statement of its own: the count below then runs on a
    -- snapshot taken after the lock, and sees the leases of the claim that held it.
    if v_cap is not null and not pg_try_advisory_xact_lock(hashtextextended('feyxa.lane:' || v_lane, 0)) then
      return;
    end if;
    if v_cap is not null and (select count(*) from event_queue q where q.tenant_id = v_lane and q.locked_by is not null) >= v_cap then
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
comment on function feyxa.claim_event(uuid,text,interval) is 'Claims one event by id if it is due (pending, or failed and due; not held, not scheduled later). No row when it is not.';
revoke all on function feyxa.claim_event(uuid,text,interval) from public;
grant execute on function feyxa.claim_event(uuid,text,interval) to service_role;

-- Extends the leases a live worker still holds. Returns the ids it still holds: an id
-- missing from the answer was taken back (the worker was too slow) and must not be finished.
create or replace function feyxa.renew_leases(p_worker text, p_event_ids uuid[], p_lease interval default '30 seconds')
returns setof uuid
language sql security definer
set search_path = feyxa, pg_catalog
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
comment on function feyxa.renew_leases(text,uuid[],interval) is 'Heartbeat: extends the leases the worker still holds on the given events; returns those ids.';
revoke all on function feyxa.renew_leases(text,uuid[],interval) from public;
grant execute on function feyxa.renew_leases(text,uuid[],interval) to service_role;

-- Gives events back (a worker shutting down before their handlers finished): pending
-- again, not counted as a failure; a prioritised one keeps its head start. The attempt
-- number stays, so that rows a late handler still writes for that attempt never collide
-- with the next one's.
create or replace function feyxa.release_events(p_worker text, p_event_ids uuid[])
returns int
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_count int;
begin
  with released as (
    update events_log set status = 'pending', locked_by = null, locked_until = null, updated_at = now()
    where id = any (p_event_ids) and status = 'processing' and locked_by = p_worker
    returning id
  ), requeued as (
    update event_queue q set locked_by = null, due_at = now() - make_interval(secs => q.priority),
      not_before = case when q.priority <> 0 then now() end
    from released r where q.event_id = any (p_event_ids) and q.event_id = r.id
  )
  select count(*) into v_count from released;
  return v_count;
end;
$$;
comment on function feyxa.release_events(text,uuid[]) is 'Returns events a worker holds to pending without counting a failure (graceful shutdown).';
revoke all on function feyxa.release_events(text,uuid[]) from public;
grant execute on function feyxa.release_events(text,uuid[]) to service_role;
