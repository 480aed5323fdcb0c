-- Health: is anything working the bus, and how well. Two halves:
--
-- * Heartbeats. Every worker reports that it is alive: the Node dispatcher every 5 s, off its
--   claim loop (a timer), and the server's invocations of process-event or retry-failed-events
--   once they have done their work, at most once per 5 s per function and isolate
--   (src/bus/heartbeats.ts). One upsert
--   of a tiny table, never one per event. A dispatcher that stops says so (stopped_at) and is
--   no longer counted; one that vanished stops being counted after health_silence; either row
--   is forgotten an hour after it last reported, by the next report of any worker.
-- * The verdict's facts, in one call (health_facts): the lag (the oldest due, unclaimed
--   event's wait), the workers seen within health_silence, dead letters in the last
--   health_dead_window and in the one before, the endpoints the alert rules find failing
--   (endpoint_failing, alerts.sql), the handler runs that succeeded per minute over the last
--   hour (handler_minutes, stats.sql: the rollups, not the log) and the bounds
--   (event_bus_settings). The rules (healthy, degraded, down, and why) are in
--   src/bus/telemetry/health.ts; the metrics function serves them at /metrics/health and as
--   feyxa_health, the monitor at /event-monitor/health (docs/observability.md).

create table feyxa.worker_heartbeats (
  -- the bus's worker id (locked_by of what it claims): dispatcher:<uuid>, process-event:<uuid>, local:<uuid>
  worker text not null check (length(worker) between 1 and 200),
  -- what reports: the dispatcher, or the function invoked
  role text not null check (role ~ '^[a-z][a-z0-9-]{0,62}$'),
  -- where: a Node process (npm start, npm run dispatcher) or an Edge Function's isolate
  runtime text not null check (runtime in ('node', 'edge')),
  -- the machine's host name, where the runtime gives one (Node)
  host text check (length(host) <= 255),
  started_at timestamptz not null,
  last_seen timestamptz default now() not null,
  -- events the worker was running when it reported
  in_flight int default 0 not null check (in_flight >= 0),
  -- when it said it stopped (a dispatcher's graceful stop); null while it runs
  stopped_at timestamptz,
  constraint worker_heartbeats_pkey primary key (worker, role)
);
alter table feyxa.worker_heartbeats enable row level security;
comment on table feyxa.worker_heartbeats is 'Who works the bus: each dispatcher and each function''s isolate, where it runs, when it started, last reported and stopped, and how many events it was running. Written by report_worker and stop_worker; rows an hour old are forgotten.';
grant all on table feyxa.worker_heartbeats to service_role;

-- One report of a worker: its row, upserted; and, in passing, the rows of workers silent
-- for an hour, deleted. Rows another report is deleting are skipped (skip locked), so two
-- workers reporting at once never wait on each other.
create or replace function feyxa.report_worker(
  p_worker text, p_role text, p_runtime text, p_host text, p_started_at timestamp with time zone, p_in_flight integer)
returns void
language sql
set search_path = feyxa, pg_catalog
as $$
  delete from worker_heartbeats
  where ctid = any (array(select w.ctid from worker_heartbeats w
                          where w.last_seen < now() - interval '1 hour' for update skip locked));
  insert into worker_heartbeats as w (worker, role, runtime, host, started_at, last_seen, in_flight)
  values (p_worker, p_role, p_runtime, p_host, p_started_at, now(), p_in_flight)
  on conflict (worker, role) do update
    set runtime = excluded.runtime, host = excluded.host, started_at = excluded.started_at,
        last_seen = excluded.last_seen, in_flight = excluded.in_flight, stopped_at = null;
$$;
comment on function feyxa.report_worker(text,text,text,text,timestamp with time zone,integer) is 'A worker''s heartbeat: upserts its row of worker_heartbeats (last seen now) and forgets workers silent for an hour.';
revoke all on function feyxa.report_worker(text,text,text,text,timestamp with time zone,integer) from public;
grant execute on function feyxa.report_worker(text,text,text,text,timestamp with time zone,integer) to service_role;

-- A worker that stops says so: it is not counted until it reports again, and the verdict can
-- say it stopped rather than went silent.
create or replace function feyxa.stop_worker(p_worker text, p_role text)
returns void
language sql
set search_path = feyxa, pg_catalog
as $$
  update worker_heartbeats set stopped_at = now(), last_seen = now(), in_flight = 0
  where worker = p_worker and role = p_role;
$$;
comment on function feyxa.stop_worker(text,text) is 'A worker stopping: its row of worker_heartbeats is marked stopped (no longer counted as alive).';
revoke all on function feyxa.stop_worker(text,text) from public;
grant execute on function feyxa.stop_worker(text,text) to service_role;

-- The verdict's facts in one row. Each comes from a small table or an index:
--   lag            the head of event_queue_due_idx: its first 1,000 due, unclaimed rows, each
--                  at its real due time (not_before for a prioritised one), so a backlog of a
--                  million costs what one of a thousand does. Exact unless more than a
--                  thousand prioritised events are ahead of the oldest (their head start, at
--                  most 1,000 s, then hides it); null when nothing is due.
--   dead letters   event_queue's dead rows (due at infinity, the same index), each joined to
--                  its event by primary key: those gone dead in the last window and in the
--                  one before (a dead letter an operator already moved is not counted).
--   endpoints      the active endpoint_failing rules that fire (alert_states).
--   throughput     handler_minutes' successful runs in each of the 60 whole minutes before
--                  the rollups' cursor, oldest first (zeros where none ran).
-- Security definer: operators read it from the monitor, as themselves, without reading the
-- settings or the heartbeats directly; any other signed-in user or anon is refused (42501).
create or replace function feyxa.health_facts()
returns table(
  checked_at timestamptz, lag_seconds double precision,
  workers_live integer, last_seen timestamptz, workers jsonb,
  dead_current integer, dead_previous integer, failing_endpoints text[],
  runs_per_minute bigint[], counted_to timestamptz,
  silence_seconds double precision, max_lag_seconds double precision, dead_window_seconds double precision)
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_role     text := coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role';
  v_settings event_bus_settings;
  v_counted  timestamptz;
begin
  -- An API role (by its claims, or by the role alone when none were set) reads only as an operator.
  if (v_role in ('anon', 'authenticated') or current_setting('role') in ('anon', 'authenticated'))
     and (v_role is distinct from 'authenticated' or not reader_is_operator()) then
    raise exception using errcode = '42501', message = 'only operators see the bus''s health';
  end if;
  select * into v_settings from event_bus_settings;
  select c.folded_to into v_counted from stats_cursor c;
  return query
    with heartbeats as (
      select w.*, w.stopped_at is null and w.last_seen >= now() - v_settings.health_silence as live from worker_heartbeats w
    )
    select
      now(),
      (select extract(epoch from now() - min(coalesce(h.not_before, h.due_at)))::double precision
       from (select q.due_at, q.not_before from event_queue q
             where q.locked_by is null and q.due_at <= now()
             order by q.due_at limit 1000) h
       where h.not_before is null or h.not_before <= now()),
      (select count(*)::int from heartbeats where live),
      (select max(h.last_seen) from heartbeats h),
      (select coalesce(jsonb_agg(jsonb_build_object(
                'worker', h.worker, 'role', h.role, 'runtime', h.runtime, 'host', h.host, 'started_at', h.started_at,
                'last_seen', h.last_seen, 'in_flight', h.in_flight, 'stopped_at', h.stopped_at, 'live', h.live)
                order by h.last_seen desc, h.worker, h.role), '[]')
       from (select * from heartbeats b order by b.last_seen desc limit 50) h),
      d.current_window, d.previous_window,
      (select coalesce(array_agg(distinct r.handler_name order by r.handler_name), '{}')
       from alert_rules r join alert_states s on s.rule_id = r.id
       where r.kind = 'endpoint_failing' and r.is_active and s.firing),
      (select array_agg((select coalesce(sum(m.runs - m.failures), 0) from handler_minutes m where m.minute = g.minute) order by g.minute)
       from generate_series(date_trunc('minute', v_counted) - interval '60 minutes',
                            date_trunc('minute', v_counted) - interval '1 minute', interval '1 minute') g(minute)),
      v_counted,
      extract(epoch from v_settings.health_silence)::double precision,
      extract(epoch from v_settings.health_max_lag)::double precision,
      extract(epoch from v_settings.health_dead_window)::double precision
    from (
      select count(*) filter (where e.processed_at >= now() - v_settings.health_dead_window)::int as current_window,
             count(*) filter (where e.processed_at < now() - v_settings.health_dead_window)::int as previous_window
      from event_queue q join events_log e on e.id = q.event_id
      where q.locked_by is null and q.due_at = 'infinity' and e.status = 'dead'
        and e.processed_at >= now() - 2 * v_settings.health_dead_window
    ) d;
end;
$$;
comment on function feyxa.health_facts() is 'The facts of the health verdict in one row: the lag, the workers running and seen within health_silence (and the latest 50 heartbeats), dead letters in the last health_dead_window and the one before, the failing endpoints, successful handler runs per minute over the last hour (handler_minutes), and the bounds. For the server and operators (42501 for anyone else).';
revoke all on function feyxa.health_facts() from public;
grant execute on function feyxa.health_facts() to authenticated, service_role;
