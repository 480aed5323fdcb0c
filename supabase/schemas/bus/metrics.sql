-- Metrics: what the `metrics` function and the local gateway's /metrics serve in Prometheus'
-- text format (src/bus/telemetry/metrics.ts, docs/observability.md), read in one call,
-- read_metrics, without a scan of the log however long it grows:
--
-- * gauges of what is open now come from event_queue, which holds only open events (pending,
--   processing, failed, dead), each joined to its events_log row by primary key;
-- * counters (events emitted, handler runs by outcome, their durations, webhook deliveries)
--   are folded in incrementally: each read adds the rows created since the previous read (a
--   range of events_log_created_idx and of BRIN indexes on created_at) to metric_counters, and
--   moves metric_cursor. Prometheus counters must only grow; recounting the whole log on every
--   scrape would be the full scan this avoids. The purge never lowers them.
--
-- Rows are counted once their transaction is surely committed: up to p_settle before now (a
-- row's created_at is its transaction's start, so a row committed later than that could be
-- missed; emits and completions are short transactions). Counting starts when metric_cursor's
-- row is written, with the schema; one fold takes at most an hour of the log, so a first
-- scrape after a long while costs a bounded range, and the next ones catch up
-- (feyxa_metrics_counted_to_timestamp_seconds).
--
-- fold_metrics is that fold alone; read_metrics starts with it. (The monitor's per-minute
-- rollups, which the health verdict's trend reads too, are stats.sql's.)

create table feyxa.metric_counters (
  metric text not null check (metric in ('events_emitted', 'handler_runs', 'handler_duration_bucket', 'handler_duration_sum', 'webhook_deliveries')),
  -- the event type or the handler name
  name text not null,
  -- the outcome, the bucket's upper bound in seconds, or the status class; '' when none
  label text not null,
  value double precision default 0 not null,
  constraint metric_counters_pkey primary key (metric, name, label)
);
alter table feyxa.metric_counters enable row level security;
comment on table feyxa.metric_counters is 'Cumulative counters of the bus (Prometheus counters), folded in from the log by fold_metrics (at each read_metrics) since the schema was created.';
grant all on table feyxa.metric_counters to service_role;

-- One row (its key can only be true).
create table feyxa.metric_cursor (
  id boolean default true primary key check (id),
  counted_to timestamptz not null
);
alter table feyxa.metric_cursor enable row level security;
comment on table feyxa.metric_cursor is 'One row: rows of the log created before counted_to are in metric_counters.';
insert into feyxa.metric_cursor (counted_to) values (now());
grant all on table feyxa.metric_cursor to service_role;

-- Folds the rows created in [p_from, p_to) into metric_counters. The handler log, the
-- largest range (a row per run), is read once: runs are grouped by handler, outcome and
-- duration bucket, and the three handler metrics are sums over those groups (npm run bench
-- scrapes every second during a drain: a fold took 68 ms reading the range three times, 41 once).
create or replace function feyxa.count_metrics_between(p_from timestamp with time zone, p_to timestamp with time zone)
returns void
language sql
set search_path = feyxa, pg_catalog
as $$
  with runs as (
    select h.handler_name, h.status,
           -- the bucket of the runs that ran (not those skipped, waiting, blocked or deferred), in seconds
           case when h.status not in ('success', 'failed') then null
                when h.duration_ms <= 5 then '0.005' when h.duration_ms <= 10 then '0.01' when h.duration_ms <= 25 then '0.025'
                when h.duration_ms <= 50 then '0.05' when h.duration_ms <= 100 then '0.1' when h.duration_ms <= 250 then '0.25'
                when h.duration_ms <= 500 then '0.5' when h.duration_ms <= 1000 then '1' when h.duration_ms <= 2500 then '2.5'
                when h.duration_ms <= 5000 then '5' when h.duration_ms <= 10000 then '10' else '+Inf' end as bucket,
           count(*) as n, sum(h.duration_ms) as ms
    from event_handlers_log h where h.created_at >= p_from and h.created_at < p_to
    group by 1, 2, 3
  )
  insert into metric_counters as c (metric, name, label, value)
  select 'events_emitted', e.event_type, '', count(*)
  from events_log e where e.created_at >= p_from and e.created_at < p_to
  group by e.event_type
  union all
  select 'handler_runs', r.handler_name, r.status, sum(r.n) from runs r group by 2, 3
  union all
  select 'handler_duration_bucket', r.handler_name, r.bucket, sum(r.n) from runs r where r.bucket is not null group by 2, 3
  union all
  select 'handler_duration_sum', r.handler_name, '', sum(r.ms) / 1000.0 from runs r where r.bucket is not null group by 2
  union all
  select 'webhook_deliveries', d.handler_name,
         case when d.status_code is null then 'none' else (d.status_code / 100)::text || 'xx' end, count(*)
  from webhook_deliveries d where d.created_at >= p_from and d.created_at < p_to
  group by 2, 3
  on conflict (metric, name, label) do update set value = c.value + excluded.value
$$;
comment on function feyxa.count_metrics_between(timestamp with time zone,timestamp with time zone) is 'Internal to fold_metrics: folds the log rows created in [p_from, p_to) into metric_counters (events emitted, handler runs and durations, webhook deliveries).';
revoke all on function feyxa.count_metrics_between(timestamp with time zone,timestamp with time zone) from public;
grant execute on function feyxa.count_metrics_between(timestamp with time zone,timestamp with time zone) to service_role;

-- What is open now, by event type: one pass over event_queue, each row's event by primary key.
create or replace function feyxa.open_event_gauges()
returns table(event_type text, status text, open bigint, due bigint, oldest_due_at timestamp with time zone)
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select e.event_type, e.status, count(*),
         count(*) filter (where q.locked_by is null and q.due_at <= now() and (q.not_before is null or q.not_before <= now())),
         min(coalesce(q.not_before, q.due_at)) filter (where q.locked_by is null and q.due_at <= now() and (q.not_before is null or q.not_before <= now()))
  from event_queue q join events_log e on e.id = q.event_id
  group by e.event_type, e.status
$$;
comment on function feyxa.open_event_gauges() is 'Internal to read_metrics: the open events (event_queue) by type and status, how many are due and unclaimed, and the oldest due time.';
revoke all on function feyxa.open_event_gauges() from public;
grant execute on function feyxa.open_event_gauges() to service_role;

-- The fold: adds what settled since the last fold (one folder at a time, under the cursor's
-- row lock; a second waits, then finds the range done). Returns the cursor: the log's rows
-- created before it are counted.
create or replace function feyxa.fold_metrics(p_settle interval default interval '15 seconds')
returns timestamp with time zone
language plpgsql
set search_path = feyxa, pg_catalog
as $$
declare
  v_from timestamptz;
  v_to   timestamptz;
begin
  if p_settle is null or p_settle < interval '0' or p_settle > interval '1 hour' then
    raise exception using errcode = '22023', message = 'settle must be between 0 and 1 hour', detail = 'settle';
  end if;
  select c.counted_to into v_from from metric_cursor c for update;
  if not found then -- the row was deleted: count from now on
    v_from := now() - p_settle;
    insert into metric_cursor (counted_to) values (v_from) on conflict (id) do nothing;
  end if;
  v_to := least(now() - p_settle, v_from + interval '1 hour');
  if v_to <= v_from then
    return v_from;
  end if;
  perform count_metrics_between(v_from, v_to);
  update metric_cursor set counted_to = v_to;
  return v_to;
end;
$$;
comment on function feyxa.fold_metrics(interval) is 'Folds the log rows created since the last fold, up to p_settle ago (at most an hour of them), into the cumulative counters; returns the time before which rows are counted. read_metrics starts with it.';
revoke all on function feyxa.fold_metrics(interval) from public;
grant execute on function feyxa.fold_metrics(interval) to service_role;

-- The one call: folds what settled since the last read, then answers the counters, the
-- cursor and the gauges as rows of (metric, name, label, value).
create or replace function feyxa.read_metrics(p_settle interval default interval '15 seconds')
returns table(metric text, name text, label text, value double precision)
language plpgsql
set search_path = feyxa, pg_catalog
as $$
declare
  v_to timestamptz;
begin
  v_to := fold_metrics(p_settle);
  return query
    select c.metric, c.name, c.label, c.value from metric_counters c
    union all
    select 'counted_to', '', '', extract(epoch from v_to)::double precision
    union all
    select m.metric, g.event_type, g.status, m.value
    from open_event_gauges() g
    cross join lateral (values
      ('events', g.open::double precision),
      ('queue_due', g.due::double precision),
      ('oldest_due_age', extract(epoch from now() - g.oldest_due_at)::double precision)
    ) as m(metric, value)
    where m.value is not null;
end;
$$;
comment on function feyxa.read_metrics(interval) is 'The bus''s metrics in one call: folds the log rows created up to p_settle ago into the cumulative counters (fold_metrics), then returns them with the open events by type and status, the due backlog and its oldest due time (metrics function, docs/observability.md).';
revoke all on function feyxa.read_metrics(interval) from public;
grant execute on function feyxa.read_metrics(interval) to service_role;
