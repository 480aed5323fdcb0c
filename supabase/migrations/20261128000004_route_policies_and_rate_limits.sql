-- Retry policies per route and rate limits (issue 14, items 6 and 7).
--
-- A route (a row of event_subscriptions) may carry its own retry policy: how many times
-- its handler may fail one event (max_attempts), and its backoff (base, factor, cap,
-- jitter). Unset, the bus's settings apply as before: the event's max_retries and
-- retry_delay(). Dead-lettering is then per handler: each counts its own failures of an
-- event, and the event is dead when a handler it owes has spent its attempts (the
-- operator's retry_event runs the handlers that did not succeed, that one included).
--
-- A rate limit is a token bucket shared by every dispatcher (rate_limits: a rate per
-- second and a burst). A handler that names one takes a token before it runs
-- (take_rate_token); when the bucket is empty it does not run: its run is recorded as
-- 'deferred', with the wait, and an attempt whose only setback was such a wait goes back
-- to pending, due when the wait ends, without spending a retry.

alter table feyxa.event_subscriptions
  add column max_attempts int check (max_attempts between 1 and 101),
  add column retry_base   interval check (retry_base >= interval '0'),
  add column retry_factor numeric check (retry_factor >= 1),
  add column retry_cap    interval check (retry_cap >= interval '0'),
  add column retry_jitter numeric check (retry_jitter between 0 and 1);
comment on column feyxa.event_subscriptions.max_attempts is 'How many times this route''s handler may fail one event before the event is dead (null: the event''s max_retries + 1).';
comment on column feyxa.event_subscriptions.retry_base is 'This route''s backoff: base * factor^(failures - 1), at most retry_cap, stretched by up to retry_jitter (each null: the bus''s setting).';

alter table feyxa.event_handlers_log drop constraint if exists event_handlers_log_status_check;
alter table feyxa.event_handlers_log add constraint event_handlers_log_status_check
  check (status in ('success', 'failed', 'skipped', 'deferred')) not valid;
alter table feyxa.event_handlers_log validate constraint event_handlers_log_status_check;

create function feyxa.set_route_policy(
  p_handler_name text, p_max_attempts int default null, p_retry_base interval default null,
  p_retry_factor numeric default null, p_retry_cap interval default null, p_retry_jitter numeric default null,
  p_event_pattern text default null
)
returns int
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_count int;
begin
  if p_max_attempts is not null and p_max_attempts not between 1 and 101 then
    raise exception using errcode = '22023', message = 'max_attempts must be between 1 and 101', detail = 'max_attempts';
  end if;
  if p_retry_factor is not null and p_retry_factor < 1 then
    raise exception using errcode = '22023', message = 'retry_factor must be at least 1', detail = 'retry_factor';
  end if;
  if p_retry_jitter is not null and p_retry_jitter not between 0 and 1 then
    raise exception using errcode = '22023', message = 'retry_jitter must be between 0 and 1', detail = 'retry_jitter';
  end if;
  if p_retry_base < interval '0' or p_retry_cap < interval '0' then
    raise exception using errcode = '22023', message = 'retry_base and retry_cap must not be negative', detail = 'retry_base';
  end if;
  update event_subscriptions set max_attempts = p_max_attempts, retry_base = p_retry_base, retry_factor = p_retry_factor,
                                 retry_cap = p_retry_cap, retry_jitter = p_retry_jitter, updated_at = now()
  where handler_name = p_handler_name and (p_event_pattern is null or event_pattern = p_event_pattern);
  get diagnostics v_count = row_count;
  if v_count = 0 then
    raise exception using errcode = 'P0002', message = format('no route of handler %s', p_handler_name), detail = 'handler_name';
  end if;
  return v_count;
end;
$$;
comment on function feyxa.set_route_policy(text, int, interval, numeric, interval, numeric, text) is
  'Sets the retry policy of a handler''s routes (all of them, or the one of p_event_pattern); nulls fall back to the bus''s settings. Returns how many routes changed.';

create table feyxa.rate_limits (
  key         text primary key check (length(key) between 1 and 200),
  per_second  double precision not null check (per_second > 0),
  burst       int not null check (burst >= 1),
  tokens      double precision not null,
  refilled_at timestamptz not null default clock_timestamp()
);
comment on table feyxa.rate_limits is
  'Token buckets shared by every dispatcher: per_second tokens a second, at most burst at once. Written by configure_rate_limit and take_rate_token.';
alter table feyxa.rate_limits enable row level security;
revoke all on feyxa.rate_limits from public, anon, authenticated;
grant all on feyxa.rate_limits to service_role;

create function feyxa.configure_rate_limit(p_key text, p_per_second double precision, p_burst int default null)
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if p_key is null or length(p_key) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'key must be 1 to 200 characters', detail = 'key';
  end if;
  if p_per_second is null then
    delete from rate_limits where key = p_key;
    return;
  end if;
  if p_per_second <= 0 or p_per_second > 1e6 then
    raise exception using errcode = '22023', message = 'per_second must be above 0 and at most 1000000', detail = 'per_second';
  end if;
  if p_burst is not null and p_burst < 1 then
    raise exception using errcode = '22023', message = 'burst must be at least 1', detail = 'burst';
  end if;
  insert into rate_limits (key, per_second, burst, tokens)
  values (p_key, p_per_second, coalesce(p_burst, greatest(ceil(p_per_second)::int, 1)), coalesce(p_burst, greatest(ceil(p_per_second)::int, 1)))
  on conflict (key) do update set per_second = excluded.per_second, burst = excluded.burst,
                                  tokens = least(rate_limits.tokens, excluded.burst);
end;
$$;
comment on function feyxa.configure_rate_limit(text, double precision, int) is
  'Creates or changes a rate limit (tokens per second, burst: by default the rate rounded up); a null rate removes it.';

-- Takes one token of a bucket: 0 when taken, else the milliseconds until one is there
-- (nothing is taken then). Under the bucket's row lock: every dispatcher shares it. An
-- unknown key has no limit (0).
create function feyxa.take_rate_token(p_key text)
returns double precision
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_bucket rate_limits;
  v_now    timestamptz := clock_timestamp();
  v_tokens double precision;
begin
  select * into v_bucket from rate_limits where key = p_key for update;
  if not found then
    return 0;
  end if;
  v_tokens := least(v_bucket.burst, v_bucket.tokens + extract(epoch from v_now - v_bucket.refilled_at)::double precision * v_bucket.per_second);
  if v_tokens >= 1 then
    update rate_limits set tokens = v_tokens - 1, refilled_at = v_now where key = p_key;
    return 0;
  end if;
  update rate_limits set tokens = v_tokens, refilled_at = v_now where key = p_key;
  return ceil((1 - v_tokens) / v_bucket.per_second * 1000);
end;
$$;
comment on function feyxa.take_rate_token(text) is
  'Takes a token of a rate limit: 0 when taken (or when there is no such limit), else the milliseconds to wait, taking nothing.';

-- complete_attempts, as in 20261123000004, with per-route policies and deferrals.
create or replace function feyxa.complete_attempts(p_worker text, p_results jsonb)
returns table (event_id uuid, status text, lease_held boolean)
language plpgsql
security definer
set search_path = feyxa, pg_catalog
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
  -- As in 20261123000004, with the policies above (exhausted, policy_at: null when nothing
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
                           when o.failed or o.deferred then o.retry_at end,
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
  -- (a prioritised one its priority less: 20261128000001), a dead one waits for an
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

comment on function feyxa.complete_attempts(text, jsonb) is
  'Writes the handler rows of a batch of attempts and moves each event the worker still holds: completed; failed with the backoff (the route''s own policy where it has one); dead on a refusal or when a handler has spent its attempts; pending again, due at the end of the wait, when its only setback was a rate limit. One call per batch.';

do $$
declare
  f text;
begin
  foreach f in array array[
    'feyxa.set_route_policy(text, int, interval, numeric, interval, numeric, text)',
    'feyxa.configure_rate_limit(text, double precision, int)', 'feyxa.take_rate_token(text)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
