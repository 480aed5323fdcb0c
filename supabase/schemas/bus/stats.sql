-- The monitor's numbers at any size of the log: what stats over a window need, kept as it
-- happens instead of counted over the log at each read (at a million events a day, a
-- 24-hour window was a million rows to count; these are a few thousand).
--
--   stats_minutes    events emitted, per minute of their creation and event type
--   stats_closed     events an operator closed (discarded, cancelled), per minute of their
--                    creation and event type: close_event (operator.sql) counts them
--   handler_minutes  handler runs that ran, per minute, event type and handler: how many,
--                    how many failed, and how many in each duration bucket (for p50 and p95)
--
-- Where an event of a window stands now follows without a count of the log: those still
-- open (pending, processing, failed, dead) are in event_queue, which holds only them; the
-- closed ones are counted above; the rest completed. The monitor's stats (src/bus/functions/
-- monitor/stats.ts) read these for an operator's view of the whole bus, and the log itself,
-- through the tenant index, for one tenant's.
--
-- Emitted counts and runs are folded in from the log like the metrics' counters
-- (metrics.sql): fold_stats adds the rows created since stats_cursor, up to p_settle before
-- now (a row's created_at is its transaction's start: a later commit could be missed
-- otherwise), at most p_max of the log a call, skipping stretches with no event; the
-- scheduler calls it every minute (cron.sql) and the monitor before its reads. What is newer
-- than the cursor, the stats count from the log itself: a short range of the created_at
-- indexes. Rows older than eight days (the widest window is seven) go at each fold.

create table feyxa.stats_minutes (
  minute timestamptz not null,
  event_type text not null,
  emitted int default 0 not null,
  primary key (minute, event_type)
);
alter table feyxa.stats_minutes enable row level security;
comment on table feyxa.stats_minutes is 'Events emitted per minute of their creation and event type, folded from the log by fold_stats: the monitor''s counts over a window without a count of the log.';
grant select on table feyxa.stats_minutes to authenticated;
grant all on table feyxa.stats_minutes to service_role;

create table feyxa.stats_closed (
  minute timestamptz not null,
  event_type text not null,
  closed int default 0 not null,
  primary key (minute, event_type)
);
alter table feyxa.stats_closed enable row level security;
comment on table feyxa.stats_closed is 'Events discarded or cancelled, per minute of their creation and event type, counted by close_event: with event_queue''s open events, what tells the completed ones of a window.';
grant select on table feyxa.stats_closed to authenticated;
grant all on table feyxa.stats_closed to service_role;

create table feyxa.handler_minutes (
  minute timestamptz not null,
  event_type text not null,
  handler_name text not null,
  runs int default 0 not null,
  failures int default 0 not null,
  -- runs per duration bucket, each up to (not including) its bound in ms: 5, 10, 25, 50,
  -- 100, 250, 500, 1000, 2500, 5000, 10000, and the rest (HANDLER_DURATION_BUCKETS,
  -- src/bus/functions/monitor/stats.ts; width_bucket's)
  durations int[] not null,
  primary key (minute, event_type, handler_name)
);
alter table feyxa.handler_minutes enable row level security;
comment on table feyxa.handler_minutes is 'Handler runs that ran (success or failed) per minute, event type and handler: count, failures and a duration histogram, folded from the handler log by fold_stats.';
grant select on table feyxa.handler_minutes to authenticated;
grant all on table feyxa.handler_minutes to service_role;

-- One row: the log's rows created before folded_to are in the tables above. It starts eight
-- days back, so that a database with events already in it counts them (in p_max chunks).
create table feyxa.stats_cursor (
  id boolean default true primary key check (id),
  folded_to timestamptz not null
);
alter table feyxa.stats_cursor enable row level security;
comment on table feyxa.stats_cursor is 'One row: the log''s rows created before folded_to are counted in stats_minutes and handler_minutes.';
insert into feyxa.stats_cursor (folded_to) values (now() - interval '8 days');
grant select on table feyxa.stats_cursor to authenticated;
grant all on table feyxa.stats_cursor to service_role;

-- One fold: the events and handler runs created in [folded_to, up to p_settle before now),
-- at most p_max of the log past the first event found (so an empty stretch costs one index
-- probe). One folder at a time: a fold that finds the cursor locked leaves it to the other
-- and returns null. Returns where the cursor now is.
create or replace function feyxa.fold_stats(p_max interval default interval '1 hour', p_settle interval default interval '10 seconds')
returns timestamptz
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_from timestamptz;
  v_next timestamptz;
  v_to   timestamptz;
begin
  if p_max is null or p_max <= interval '0' or p_max > interval '1 day' then
    raise exception using errcode = '22023', message = 'max must be more than 0 and at most a day', detail = 'max';
  end if;
  if p_settle is null or p_settle < interval '0' or p_settle > interval '1 hour' then
    raise exception using errcode = '22023', message = 'settle must be 0 to an hour', detail = 'settle';
  end if;
  select c.folded_to into v_from from stats_cursor c for update skip locked;
  if not found then
    return null;
  end if;
  v_next := least((select min(e.created_at) from events_log e where e.created_at >= v_from),
                  (select min(h.created_at) from event_handlers_log h where h.created_at >= v_from));
  v_to := least(now() - p_settle, coalesce(v_next, now()) + p_max);
  if v_to <= v_from then
    return v_from;
  end if;

  insert into stats_minutes as s (minute, event_type, emitted)
  select date_trunc('minute', e.created_at), e.event_type, count(*)
  from events_log e where e.created_at >= v_from and e.created_at < v_to
  group by 1, 2
  on conflict (minute, event_type) do update set emitted = s.emitted + excluded.emitted;

  insert into handler_minutes as m (minute, event_type, handler_name, runs, failures, durations)
  select date_trunc('minute', h.created_at), coalesce(e.event_type, ''), h.handler_name, count(*), count(*) filter (where h.status = 'failed'),
         array[count(*) filter (where h.duration_ms >= 0 and h.duration_ms < 5), count(*) filter (where h.duration_ms >= 5 and h.duration_ms < 10),
               count(*) filter (where h.duration_ms >= 10 and h.duration_ms < 25), count(*) filter (where h.duration_ms >= 25 and h.duration_ms < 50),
               count(*) filter (where h.duration_ms >= 50 and h.duration_ms < 100), count(*) filter (where h.duration_ms >= 100 and h.duration_ms < 250),
               count(*) filter (where h.duration_ms >= 250 and h.duration_ms < 500), count(*) filter (where h.duration_ms >= 500 and h.duration_ms < 1000),
               count(*) filter (where h.duration_ms >= 1000 and h.duration_ms < 2500), count(*) filter (where h.duration_ms >= 2500 and h.duration_ms < 5000),
               count(*) filter (where h.duration_ms >= 5000 and h.duration_ms < 10000), count(*) filter (where h.duration_ms >= 10000)]::int[]
  -- (a run whose event is gone, which the purge never leaves, counts under no type)
  from event_handlers_log h left join events_log e on e.id = h.event_id
  where h.created_at >= v_from and h.created_at < v_to and h.status in ('success', 'failed')
  group by 1, 2, 3
  on conflict (minute, event_type, handler_name) do update set
    runs = m.runs + excluded.runs, failures = m.failures + excluded.failures,
    durations = array(select a + b from unnest(m.durations, excluded.durations) as u(a, b));

  update stats_cursor set folded_to = v_to;
  delete from stats_minutes where minute < now() - interval '8 days';
  delete from stats_closed where minute < now() - interval '8 days';
  delete from handler_minutes where minute < now() - interval '8 days';
  return v_to;
end;
$$;
comment on function feyxa.fold_stats(interval,interval) is 'Folds the events and handler runs created since stats_cursor (up to p_settle before now, at most p_max of the log past the first found) into stats_minutes and handler_minutes, and forgets what is older than 8 days. One folder at a time (null when another holds the cursor). Returns the new cursor.';
revoke all on function feyxa.fold_stats(interval,interval) from public;
grant execute on function feyxa.fold_stats(interval,interval) to service_role;
