-- The state machine of an event, second half: recording what an attempt did (see the
-- diagram in 20261123000003_event_bus_claims.sql). One call per batch of attempts writes
-- every handler run and moves each event to completed, failed (with backoff) or dead.

-- The delay before retry number p_retry_count + 1: base × factor^retry_count, stretched
-- by up to retry_jitter at random (5, 15, 45 minutes by default).
create or replace function retry_delay(p_retry_count int)
returns interval
language sql volatile
set search_path = public, pg_catalog
as $$
  select s.retry_base * power(s.retry_factor, p_retry_count)::double precision * (1 + random() * s.retry_jitter)::double precision
  from event_bus_settings s
$$;
comment on function retry_delay(int) is
  'Backoff before the next attempt: retry_base * retry_factor^retry_count * (1 + random jitter up to retry_jitter).';

-- The handler runs of complete_attempts' results, as rows of event_handlers_log. No
-- `set search_path`, so that it is inlined into complete_attempts' insert, where the
-- caller's pinned search_path applies; it reads no table, only its argument.
create or replace function handler_runs(p_results jsonb)
returns table (event_id uuid, handler_name text, attempt int, status text, duration_ms int, error_message text)
language sql immutable
as $$
  select (r ->> 'event_id')::uuid, h ->> 'handler_name', (r ->> 'attempt')::int, h ->> 'status',
         greatest(coalesce((h ->> 'duration_ms')::numeric, 0), 0)::int, left(h ->> 'error_message', 2000)
  from jsonb_array_elements(p_results) r, jsonb_array_elements(r -> 'handlers') h
$$;
comment on function handler_runs(jsonb) is
  'Internal to complete_attempts: one row per handler run of a results array ({event_id, attempt, handlers: [...]}).';

-- Records the outcome of attempts, a whole batch in one call. p_results is a JSON array of
--   {event_id, attempt, handlers: [{handler_name, status: success|failed|skipped,
--     duration_ms, error_message?, retriable?: boolean (default true), retry_at?: timestamptz}]}
-- Handler rows are always written (the runs happened). The event moves only if this worker
-- still holds it for that attempt:
--   all handlers success/skipped           -> completed
--   a failure with retriable = false       -> dead, with that reason
--   otherwise a failure, retries left      -> failed, next_retry_at = backoff, or the
--                                             handler's retry_at if all failures gave one
--   a failure with no retries left         -> dead
-- How much one call costs matters (every batch ends with it): the events are found by
-- primary key, one probe per attempt, whatever the planner believes about how many rows
-- are 'processing', and the answer comes from the UPDATE's own RETURNING (events whose
-- lease was lost, rare, are looked up separately), never an n x n join of the batch.
create or replace function complete_attempts(p_worker text, p_results jsonb)
returns table (event_id uuid, status text, lease_held boolean)
language plpgsql
security definer
set search_path = public, pg_catalog
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
begin
  if p_results is null or jsonb_typeof(p_results) <> 'array' then
    raise exception using errcode = '22023', message = 'results must be a JSON array', detail = 'results';
  end if;

  -- The outcome of each attempt, read from the JSON once:
  --   all handlers success/skipped -> completed; a refusal (retriable = false) -> dead;
  --   a failure with retries left -> failed, due after the backoff (or the handlers'
  --   retry_at when all failures gave one); a failure with no retries left -> dead.
  select array_agg(o.id), array_agg(o.attempt), array_agg(o.failed), array_agg(o.refused),
         array_agg(o.backoff), array_agg(o.retry_at), array_agg(o.errors)
  into v_ids, v_attempts, v_failed, v_refused, v_backoff, v_retry_at, v_errors
  from (
    select (r ->> 'event_id')::uuid as id, (r ->> 'attempt')::int as attempt,
           coalesce(bool_or(h ->> 'status' = 'failed'), false) as failed,
           coalesce(bool_or(h ->> 'status' = 'failed' and coalesce(h ->> 'retriable', 'true') = 'false'), false) as refused,
           -- failures that gave no retry time of their own take the backoff
           coalesce(bool_or(h ->> 'status' = 'failed' and h ->> 'retry_at' is null), false) as backoff,
           max((h ->> 'retry_at')::timestamptz) filter (where h ->> 'status' = 'failed') as retry_at,
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

  -- An event moves only if this worker still holds its lease (its queue row, locked here
  -- so that neither the reaper nor a late renewal moves it meanwhile; in id order, as
  -- every writer of the queue locks) and for that attempt.
  v_held := array(select q.event_id from event_queue q
                  where q.event_id = any (v_ids) and q.locked_by = p_worker
                  order by q.event_id for update);

  -- The outcomes are joined as arrays (unnest), each event found by primary key. Nothing
  -- here filters on status or lease columns: the planner's guess of how many rows are
  -- 'processing' is near zero, and it would then rescan the outcomes once per event.
  with moved as (
    update events_log e set
      status = case when not o.failed then 'completed'
                    when o.refused or e.retry_count >= e.max_retries then 'dead'
                    else 'failed' end,
      retry_count = case when o.failed and not o.refused and e.retry_count < e.max_retries
                         then e.retry_count + 1 else e.retry_count end,
      next_retry_at = case when not o.failed or o.refused or e.retry_count >= e.max_retries then null
                           when o.backoff then greatest(now() + retry_delay(e.retry_count), o.retry_at)
                           else o.retry_at end,
      error_message = case when o.failed
                           then left(case when o.refused then 'not retriable: ' else '' end || o.errors, 4000) end,
      processed_at = case when not o.failed or o.refused or e.retry_count >= e.max_retries then now() end,
      locked_by = null, locked_until = null, updated_at = now()
    from unnest(v_ids, v_attempts, v_failed, v_refused, v_backoff, v_retry_at, v_errors)
           as o(id, attempt, failed, refused, backoff, retry_at, errors)
    where e.id = any (v_held) and e.id = o.id and e.attempt = o.attempt
    returning e.id, e.status, e.next_retry_at
  ),
  -- The queue follows: a completed event leaves it, a failed one waits for its retry,
  -- a dead one waits for an operator.
  dequeued as (
    delete from event_queue q using moved m
    where q.event_id = any (v_held) and q.event_id = m.id and m.status = 'completed'
  ),
  requeued as (
    update event_queue q set locked_by = null, due_at = coalesce(m.next_retry_at, 'infinity')
    from moved m where q.event_id = any (v_held) and q.event_id = m.id and m.status <> 'completed'
  )
  select array_agg(m.id), array_agg(m.status) into v_moved, v_statuses from moved m;

  return query select m.id, m.status, true from unnest(v_moved, v_statuses) as m(id, status);
  if coalesce(cardinality(v_moved), 0) < cardinality(v_ids) then
    -- Leases lost meanwhile (another worker took the event back): say where those stand.
    return query select cur.id, cur.status, false from events_log cur
      where cur.id = any (v_ids) and cur.id <> all (coalesce(v_moved, '{}'));
  end if;
end;
$$;
comment on function complete_attempts(text, jsonb) is
  'Writes the handler rows of a batch of attempts and moves each event the worker still holds to completed, failed (with backoff) or dead. One call per batch.';
