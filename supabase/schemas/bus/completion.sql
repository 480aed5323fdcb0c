-- Completion: recording what an attempt did, the second half of an event's state machine
-- (events.sql; claims.sql is the first). One call of complete_attempts per batch of
-- attempts writes every handler run and moves each event on: completed (out of the
-- queue), failed (due again after a backoff), dead (parked for an operator), or pending
-- again after a rate limit's wait. The dispatcher's CompletionBatcher
-- (src/bus/completion-batcher.ts) hands it everything that finished while the previous
-- call was on its way, so under load one statement records a whole batch.
--
-- Handler rows are always written: the runs happened. The event moves only if the worker
-- still holds its lease for that attempt; otherwise the answer says where the event stands
-- (another worker took it back) and the worker leaves it alone.
--
-- Retries. An event a handler failed, with retries left, is failed and due again after
-- the bus's backoff, retry_base * retry_factor^retry_count stretched by up to retry_jitter
-- (settings.sql; 5, 15, 45 minutes by default), or at the handlers' own retry_at when every
-- failure gave one (RetryAfterError). It is dead when its retries are spent (retry_count =
-- max_retries) or a handler refused it for good (NonRetriableError, retriable = false).
-- A route may carry its own policy (event_subscriptions' max_attempts and retry_*,
-- routes.sql): its handler then counts its own failures of the event and waits its own
-- backoff, and the event is dead when a handler it owes has spent its attempts (the
-- operator's retry_event then runs the handlers that did not succeed, that one included).
--
-- Rate limits (rate-limits.sql). A handler whose bucket is empty does not run: its run is
-- recorded 'deferred' with the wait, and an attempt whose only setbacks were such waits
-- goes back to pending, due when the wait ends, without spending a retry.
--
-- The queue follows each event, and ordering lines move on (flow-control.sql): a completed
-- event leaves the queue and lets the next of its line go; a dead head of a line whose type
-- says skip lets it go too.
--
-- Also here: enqueue_events, which puts events back on the queue for the operator's
-- transitions (operator.sql), and tidy_event_queue, which the claims call for queue rows
-- they took but could not start.

-- The delay before retry number p_retry_count + 1 (see above).
create or replace function feyxa.retry_delay(p_retry_count int)
returns interval
language sql
set search_path = feyxa, pg_catalog
as $$
  select s.retry_base * power(s.retry_factor, p_retry_count)::double precision * (1 + random() * s.retry_jitter)::double precision
  from event_bus_settings s
$$;
comment on function feyxa.retry_delay(integer) is 'Backoff before the next attempt: retry_base * retry_factor^retry_count * (1 + random jitter up to retry_jitter).';
revoke all on function feyxa.retry_delay(integer) from public;
grant execute on function feyxa.retry_delay(integer) to service_role;

-- The handler runs of complete_attempts' results, as rows of event_handlers_log. No
-- `set search_path`, so that it is inlined into complete_attempts' insert, where the
-- caller's pinned search_path applies; it reads no table, only its argument.
create or replace function feyxa.handler_runs(p_results jsonb)
returns table(event_id uuid, handler_name text, attempt integer, status text, duration_ms integer, error_message text)
language sql immutable
as $$
  select (r ->> 'event_id')::uuid, h ->> 'handler_name', (r ->> 'attempt')::int, h ->> 'status',
         greatest(coalesce((h ->> 'duration_ms')::numeric, 0), 0)::int, left(h ->> 'error_message', 2000)
  from jsonb_array_elements(p_results) r, jsonb_array_elements(r -> 'handlers') h
$$;
comment on function feyxa.handler_runs(jsonb) is 'Internal to complete_attempts: one row per handler run of a results array ({event_id, attempt, handlers: [...]}).';
revoke all on function feyxa.handler_runs(jsonb) from public;
grant execute on function feyxa.handler_runs(jsonb) to service_role;

-- Records the outcome of attempts, a whole batch in one call. p_results is a JSON array of
--   {event_id, attempt, handlers: [{handler_name, status: success|failed|skipped|deferred|
--     waiting|blocked, duration_ms, error_message?, retriable?: boolean (default true),
--     retry_at?: timestamptz}]}
-- and each event the worker still holds for that attempt becomes:
--   every handler success or skipped    -> completed
--   a failure with retriable = false    -> dead, with that reason
--   a failure by a handler that has
--   spent its attempts (its route's
--   max_attempts, else max_retries)     -> dead
--   any other failure                   -> failed, due after the backoff (the route's own
--                                          where it has one), or at the handlers' retry_at
--                                          if all failures gave one
--   no failure, a rate limit's wait     -> pending, due at the wait's end
-- How much one call costs matters (every batch ends with it): the outcomes are read from
-- the JSON once and joined as arrays, each event found by primary key, one probe per
-- attempt, whatever the planner believes about how many rows are 'processing'; the answer
-- comes from the UPDATE's own RETURNING (events whose lease was lost, rare, are looked up
-- separately), never an n x n join of the batch; the route policies are read only when
-- something failed.
-- jit = off: the planner counts 100 rows for each set-returning function over the JSON
-- argument and may judge a statement worth JIT-compiling (on a server built with LLVM, as
-- Debian's PostgreSQL 15, jit is on by default); none runs long enough for JIT to pay off.
create or replace function feyxa.complete_attempts(p_worker text, p_results jsonb)
returns table(event_id uuid, status text, lease_held boolean)
language plpgsql security definer
set search_path = feyxa, pg_catalog
set jit = off
as $$
declare
  -- One element per attempt of the batch: its event, attempt number and outcome.
  v_ids      uuid[];
  v_attempts int[];
  v_failed   boolean[];
  v_refused  boolean[];
  v_backoff  boolean[];
  v_retry_at timestamptz[];
  v_errors   text[];
  v_held     uuid[];
  v_moved    uuid[];
  v_statuses text[];
  v_deferred boolean[];
  v_exhausted boolean[];
  v_policy_at timestamptz[];
  v_lines    text[];
begin
  if p_results is null or jsonb_typeof(p_results) <> 'array' then
    raise exception using errcode = '22023', message = 'results must be a JSON array', detail = 'results';
  end if;

  -- The outcome of each attempt, read from the JSON once:
  --   all handlers success/skipped -> completed; a refusal (retriable = false) -> dead;
  --   a failure with retries left -> failed, due after the backoff (or the handlers'
  --   retry_at when all failures gave one); a failure with no retries left -> dead.
  select array_agg(o.id), array_agg(o.attempt), array_agg(o.failed), array_agg(o.refused),
         array_agg(o.backoff), array_agg(o.retry_at), array_agg(o.errors), array_agg(o.deferred)
  into v_ids, v_attempts, v_failed, v_refused, v_backoff, v_retry_at, v_errors, v_deferred
  from (
    select (r ->> 'event_id')::uuid as id, (r ->> 'attempt')::int as attempt,
           coalesce(bool_or(h ->> 'status' = 'failed'), false) as failed,
           coalesce(bool_or(h ->> 'status' = 'failed' and coalesce(h ->> 'retriable', 'true') = 'false'), false) as refused,
           -- failures that gave no retry time of their own take the backoff
           coalesce(bool_or(h ->> 'status' = 'failed' and h ->> 'retry_at' is null), false) as backoff,
           -- a deferred run (a rate limit's wait) is due again at its retry_at, and is no failure
           max((h ->> 'retry_at')::timestamptz) filter (where h ->> 'status' in ('failed', 'deferred')) as retry_at,
           coalesce(bool_or(h ->> 'status' = 'deferred'), false) as deferred,
           string_agg(h ->> 'handler_name' || ': ' || coalesce(h ->> 'error_message', 'failed'), '; ' order by h ->> 'handler_name')
             filter (where h ->> 'status' = 'failed') as errors
    from jsonb_array_elements(p_results) r
    left join lateral jsonb_array_elements(coalesce(r -> 'handlers', '[]')) h on true
    group by 1, 2
  ) o;

  -- event_handlers_log has no foreign key (see its table): the check is here, once per event.
  if exists (select 1 from unnest(v_ids) i where not exists (select 1 from events_log e where e.id = i)) then
    raise exception using errcode = '22023', detail = 'results',
      message = 'results name an event that does not exist: ' || (
        select string_agg(i::text, ', ') from unnest(v_ids) i where not exists (select 1 from events_log e where e.id = i));
  end if;

  -- Handler rows are always written (the runs happened), whether or not the lease held.
  -- A run written twice (this call retried after its answer was lost) is a no-op. The plain
  -- insert goes first: ON CONFLICT would cost every row a speculative insertion (a third
  -- of this statement's time in npm run bench), for a conflict that almost never comes.
  begin
    insert into event_handlers_log (event_id, handler_name, attempt, status, duration_ms, error_message)
    select * from handler_runs(p_results);
  exception when unique_violation then
    insert into event_handlers_log (event_id, handler_name, attempt, status, duration_ms, error_message)
    select * from handler_runs(p_results)
    on conflict on constraint event_handlers_log_pkey do nothing;
  end;

  -- Failed handlers whose route has a retry policy of its own (event_subscriptions'
  -- max_attempts, retry_*): each counts its own failures of this event (its rows, this
  -- one included) and waits its own backoff; the event is dead when one has spent its
  -- attempts. Handlers without a policy keep the event's count (retry_count against
  -- max_retries) and the bus's backoff. Only read when something failed.
  if true = any (v_failed) then
    select array_agg(coalesce(p.exhausted, false) order by o.ord), array_agg(p.next_at order by o.ord)
    into v_exhausted, v_policy_at
    from unnest(v_ids) with ordinality as o(id, ord)
    left join lateral (
      select bool_or(case when pol.max_attempts is not null then f.failures >= pol.max_attempts
                          else e.retry_count >= e.max_retries end) as exhausted,
             max(case when pol.handler_name is not null
                      then now() + least(coalesce(pol.retry_base, s.retry_base)
                                         * power(coalesce(pol.retry_factor, s.retry_factor), f.failures - 1)::double precision,
                                         coalesce(pol.retry_cap, interval '100 years'))
                                   * (1 + random() * coalesce(pol.retry_jitter, s.retry_jitter))::double precision
                      else now() + retry_delay(e.retry_count) end) as next_at
      from events_log e
      cross join event_bus_settings s
      join handler_runs(p_results) r on r.event_id = e.id and r.status = 'failed'
      cross join lateral (select count(*)::int as failures from event_handlers_log h
                          where h.event_id = e.id and h.handler_name = r.handler_name and h.status = 'failed') f
      left join lateral (select sub.handler_name, sub.max_attempts, sub.retry_base, sub.retry_factor, sub.retry_cap, sub.retry_jitter
                         from event_subscriptions sub
                         where sub.handler_name = r.handler_name and sub.is_active
                           and (sub.max_attempts is not null or sub.retry_base is not null or sub.retry_factor is not null
                                or sub.retry_cap is not null or sub.retry_jitter is not null)
                           and (sub.event_pattern = '*' or sub.event_pattern = e.event_type
                                or (right(sub.event_pattern, 2) = '.*' and starts_with(e.event_type, left(sub.event_pattern, -1))))
                         order by length(sub.event_pattern) desc limit 1) pol on true
      where e.id = o.id
    ) p on true;
  end if;

  -- An event moves only if this worker still holds its lease (its queue row, locked here
  -- so that neither the reaper nor a late renewal moves it meanwhile; in id order, as
  -- every writer of the queue locks) and for that attempt.
  v_held := array(select q.event_id from event_queue q
                  where q.event_id = any (v_ids) and q.locked_by = p_worker
                  order by q.event_id for update);

  -- The outcomes are joined as arrays (unnest), each event found by primary key. Nothing
  -- here filters on status or lease columns: the planner's guess of how many rows are
  -- 'processing' is near zero, and it would then rescan the outcomes once per event.
  -- Each event's move, with the policies above (exhausted, policy_at: null when nothing
  -- failed) and deferrals: an attempt whose only setbacks were rate-limit waits goes back
  -- to pending, due at the wait's end, its retries untouched.
  with moved as (
    update events_log e set
      status = case when o.failed and (o.refused or o.exhausted) then 'dead'
                    when o.failed then 'failed'
                    when o.deferred then 'pending'
                    else 'completed' end,
      retry_count = case when o.failed and not o.refused and not o.exhausted
                         then e.retry_count + 1 else e.retry_count end,
      next_retry_at = case when o.failed and (o.refused or o.exhausted) then null
                           when o.failed and o.backoff then greatest(o.policy_at, o.retry_at)
                           -- a paused route's wait has no end (infinity): the queue row parks, the log keeps none
                           when o.failed or o.deferred then nullif(o.retry_at, 'infinity') end,
      error_message = case when o.failed
                           then left(case when o.refused then 'not retriable: ' else '' end || o.errors, 4000) end,
      processed_at = case when not o.failed and not o.deferred or o.failed and (o.refused or o.exhausted) then now() end,
      locked_by = null, locked_until = null, updated_at = now()
    from (select u.*, coalesce(u.exhausted0, false) as exhausted
          from unnest(v_ids, v_attempts, v_failed, v_refused, v_backoff, v_retry_at, v_errors, v_deferred,
                      coalesce(v_exhausted, array_fill(false, array[cardinality(v_ids)])),
                      coalesce(v_policy_at, array_fill(null::timestamptz, array[cardinality(v_ids)])))
               as u(id, attempt, failed, refused, backoff, retry_at, errors, deferred, exhausted0, policy_at)) o
    where e.id = any (v_held) and e.id = o.id and e.attempt = o.attempt
    returning e.id, e.status, e.next_retry_at
  ),
  -- The queue follows: a completed event leaves it, a failed one waits for its retry
  -- (a prioritised one its priority less: flow-control.sql), a dead one waits for an
  -- operator. A completed event of an ordering line lets the next one go: the batch's
  -- lines are released below, in one call.
  dequeued as (
    delete from event_queue q using moved m
    where q.event_id = any (v_held) and q.event_id = m.id and m.status = 'completed'
    returning q.ordering_key
  ),
  requeued as (
    update event_queue q set locked_by = null,
      due_at = coalesce(m.next_retry_at - make_interval(secs => q.priority), 'infinity'),
      not_before = case when q.priority <> 0 then m.next_retry_at end
    from moved m where q.event_id = any (v_held) and q.event_id = m.id and m.status <> 'completed'
  )
  select array_agg(m.id), array_agg(m.status),
         (select array_agg(d.ordering_key) from dequeued d where d.ordering_key is not null)
  into v_moved, v_statuses, v_lines from moved m;
  if v_lines is not null then
    perform release_lines(v_lines);
  end if;
  if 'dead' = any (v_statuses) then
    perform skip_dead_heads(v_moved);
  end if;

  return query select m.id, m.status, true from unnest(v_moved, v_statuses) as m(id, status);
  if coalesce(cardinality(v_moved), 0) < cardinality(v_ids) then
    -- Leases lost meanwhile (another worker took the event back): say where those stand.
    return query select cur.id, cur.status, false from events_log cur
      where cur.id = any (v_ids) and cur.id <> all (coalesce(v_moved, '{}'));
  end if;
end;
$$;
comment on function feyxa.complete_attempts(text,jsonb) is 'Writes the handler rows of a batch of attempts and moves each event the worker still holds: completed; failed with the backoff (the route''s own policy where it has one); dead on a refusal or when a handler has spent its attempts; pending again, due at the end of the wait, when its only setbacks were rate limits, or parked (due at infinity) when one was a paused route. One call per batch.';
revoke all on function feyxa.complete_attempts(text,jsonb) from public;
grant execute on function feyxa.complete_attempts(text,jsonb) to service_role;

-- Puts events back on the queue, due at p_due_at and held by no one: an event an operator
-- retries, re-drives, reopens or replays. Its events_log row is the caller's to update. A
-- new queue row (a replayed event) takes the event's priority (due that much earlier) and,
-- when fairness is on, its lane.
create or replace function feyxa.enqueue_events(p_event_ids uuid[], p_due_at timestamptz default now())
returns void
language sql security definer
set search_path = feyxa, pg_catalog
as $$
  insert into event_queue (event_id, due_at, not_before, priority, tenant_id)
  select e.id, p_due_at - make_interval(secs => e.priority), case when e.priority <> 0 then p_due_at end, e.priority,
         case when s.tenant_fairness then coalesce(e.tenant_id, '00000000-0000-0000-0000-000000000000') end
  from events_log e, event_bus_settings s
  where e.id = any (p_event_ids)
  on conflict (event_id) do update set due_at = excluded.due_at, not_before = excluded.not_before, locked_by = null
$$;
comment on function feyxa.enqueue_events(uuid[],timestamp with time zone) is 'Makes events due at p_due_at (now by default) in event_queue, unleased; inserts their queue rows (with their priority and lane) if they have none.';
revoke all on function feyxa.enqueue_events(uuid[],timestamp with time zone) from public;
grant execute on function feyxa.enqueue_events(uuid[],timestamp with time zone) to service_role;

-- Brings queue rows that a claim took but could not start back in line with their events:
-- an event that is completed, discarded, cancelled or gone leaves the queue (through
-- dequeue_events, which lets its line go), a dead one waits at 'infinity' (and may let its
-- line go), a processing one is handed to the reaper. Only a hand-edited events_log gets
-- there: the state functions keep the two in step.
create or replace function feyxa.tidy_event_queue(p_event_ids uuid[])
returns void
language plpgsql security definer
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
comment on function feyxa.tidy_event_queue(uuid[]) is 'Internal to the claim functions: drops queue rows of completed, discarded, cancelled or missing events, parks those of dead events at infinity, hands those of processing events to the reaper.';
revoke all on function feyxa.tidy_event_queue(uuid[]) from public;
grant execute on function feyxa.tidy_event_queue(uuid[]) to service_role;
