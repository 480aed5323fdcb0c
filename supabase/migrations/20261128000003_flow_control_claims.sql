-- Flow control (issue 14), last of four: the claims respect a prioritised event's real due
-- time (not_before) and, with fairness on, serve the tenants' lanes; held events wait at
-- 'infinity', out of the claim's range. A replayed event keeps its priority and lane.
-- cancel_event ends a pending event.

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
create function feyxa.fair_claimable(p_limit int)
returns uuid[]
language plpgsql
security definer
set search_path = feyxa, pg_catalog
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
    return '{}';
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
comment on function feyxa.fair_claimable(int) is
  'Internal to claim_events when tenant_fairness is on: up to p_limit due events, row-locked, an equal share for each of up to p_limit tenant lanes (taken in turn from a random point, within each lane''s in-flight cap), then the rest in due order from lanes without a cap.';

-- As in 20261123000003, and a replayed event (a new queue row) keeps its priority (due
-- that much earlier: 20261128000001) and, when fairness is on, joins its lane.
create or replace function feyxa.enqueue_events(p_event_ids uuid[], p_due_at timestamptz default now())
returns void
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  insert into event_queue (event_id, due_at, not_before, priority, tenant_id)
  select e.id, p_due_at - make_interval(secs => e.priority), case when e.priority <> 0 then p_due_at end, e.priority,
         case when s.tenant_fairness then coalesce(e.tenant_id, '00000000-0000-0000-0000-000000000000') end
  from events_log e, event_bus_settings s
  where e.id = any (p_event_ids)
  on conflict (event_id) do update set due_at = excluded.due_at, not_before = excluded.not_before, locked_by = null
$$;
comment on function feyxa.enqueue_events(uuid[], timestamptz) is
  'Makes events due at p_due_at (now by default) in event_queue, unleased; inserts their queue rows (with their priority and lane) if they have none.';

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

-- As in 20261123000003, not before its real due time; with fairness on, a capped lane's event is claimed by id only
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

-- Cancel and discard end an event that must never run, with the reason: one transition,
-- close_event, for both. Cancel: a pending event (scheduled, held in its line, or due but
-- not yet taken). Discard: a pending, failed or dead one. Not a running one (its worker
-- would finish it regardless: wait, or discard after), not a completed one (it already ran).
create function feyxa.close_event(p_action_id uuid, p_event_id uuid, p_reason text, p_kind text)
returns jsonb
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_status   text := case p_kind when 'cancel' then 'cancelled' when 'discard' then 'discarded' end;
  v_previous jsonb := operator_begin_action(p_action_id, p_kind, jsonb_build_object('event_id', p_event_id, 'reason', p_reason));
  v_event    events_log;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  if p_reason is null or length(btrim(p_reason)) not between 1 and 500 then
    raise exception using errcode = '22023', message = 'reason must be 1 to 500 characters', detail = 'reason';
  end if;
  v_event := lock_event_for_operator(p_event_id);
  if v_event.status = v_status then
    return operator_finish_action(p_action_id, jsonb_build_object('changed', false, 'status', v_status));
  end if;
  if p_kind = 'cancel' and v_event.status <> 'pending' then
    raise exception using errcode = '55000', detail = 'event_id',
      message = format('only a pending event can be cancelled (this one is %s; a failed or dead one can be discarded)', v_event.status);
  end if;
  if p_kind = 'discard' and v_event.status not in ('pending', 'failed', 'dead') then
    raise exception using errcode = '55000', detail = 'event_id',
      message = format('only a pending, failed or dead event can be discarded (this one is %s)', v_event.status);
  end if;
  update events_log set status = v_status, next_retry_at = null, processed_at = now(), updated_at = now(),
    error_message = left(case when p_kind = 'cancel' then 'cancelled: ' || btrim(p_reason)
                              else 'discarded: ' || btrim(p_reason) || coalesce(' (last error: ' || error_message || ')', '') end, 4000)
  where id = p_event_id;
  perform dequeue_events(array[p_event_id]);
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', v_status, 'previous_status', v_event.status));
end;
$$;
comment on function feyxa.close_event(uuid, uuid, text, text) is
  'Internal to cancel_event and discard_event: ends an event that must never run (cancelled or discarded: terminal, off the queue, its line moving on), with the reason. Audited, idempotent per action id.';
revoke all on function feyxa.close_event(uuid, uuid, text, text) from public, anon, authenticated;
grant execute on function feyxa.close_event(uuid, uuid, text, text) to service_role;

create function feyxa.cancel_event(p_action_id uuid, p_event_id uuid, p_reason text)
returns jsonb
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  select close_event(p_action_id, p_event_id, p_reason, 'cancel')
$$;

-- The monitor's open statuses and the purge: cancelled is terminal like discarded. The
-- rows that go leave through dequeue_events, and a dead head may let its line go (20261128000001).
create or replace function feyxa.tidy_event_queue(p_event_ids uuid[])
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_gone uuid[];
  v_dead uuid[];
begin
  with stale as (
    select q.event_id, e.status, e.locked_by, e.locked_until
    from event_queue q left join events_log e on e.id = q.event_id
    where q.event_id = any (p_event_ids) and q.locked_by is null
      and (e.id is null or e.status not in ('pending', 'failed'))
  ), parked as (
    update event_queue q set
      due_at = case when s.status = 'dead' then 'infinity' else coalesce(s.locked_until, now()) end,
      locked_by = case when s.status = 'processing' then s.locked_by end
    from stale s where q.event_id = s.event_id and s.status in ('dead', 'processing')
  )
  select array_agg(s.event_id) filter (where s.status is null or s.status in ('completed', 'discarded', 'cancelled')),
         array_agg(s.event_id) filter (where s.status = 'dead')
  into v_gone, v_dead from stale s;
  if v_gone is not null then
    perform dequeue_events(v_gone);
  end if;
  if v_dead is not null then
    perform skip_dead_heads(v_dead);
  end if;
end;
$$;

-- As in 20261123000003, a prioritised event taken back keeps its head start (20261128000001),
-- and one that dies there may let its line go.
create or replace function feyxa.reap_expired_leases(p_limit int default 1000)
returns int
language plpgsql
security definer
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

-- As in 20261123000003, a prioritised event given back keeps its head start.
create or replace function feyxa.release_events(p_worker text, p_event_ids uuid[])
returns int
language plpgsql
security definer
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

-- As in 20261127500001, through close_event: the event leaves its ordering line, letting the next one go.
create or replace function feyxa.discard_event(p_action_id uuid, p_event_id uuid, p_reason text)
returns jsonb
language sql
security definer
set search_path = feyxa, pg_catalog
as $$
  select close_event(p_action_id, p_event_id, p_reason, 'discard')
$$;

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
revoke all on function feyxa.fair_claimable(int) from public, anon, authenticated;
grant execute on function feyxa.fair_claimable(int) to service_role;
