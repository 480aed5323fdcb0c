/**
 * The monitor's numbers over a window, as the caller may see them (RLS applies): success rate
 * per type (the events emitted in the window and where they stand now), throughput per time
 * bucket by outcome, the retry queue, dead letters grouped by type and error, and handler
 * duration percentiles.
 *
 * Two sources, the same numbers. An operator's view of the whole bus reads the rollups
 * (supabase/schemas/bus/stats.sql: emitted per minute, handler runs per minute with a
 * duration histogram, closed events), the log only for what they do not hold yet (newer
 * than their cursor, and the window's first partial minute), and where each event stands
 * from event_queue (the open ones) and the closed count: the rest completed. At a million
 * events that is thousands of rows, not a million (tests/bus/functions/event-monitor-volume.test.ts).
 * A tenant's view (a store member's, or a tenant filter) counts its own events in the log,
 * through the tenant index, exactly; its percentiles are exact too.
 */
import { FAILING_STATUSES, IDLE_RUN_STATUSES, IN_FLIGHT_STATUSES } from "../../vocabulary.ts";
import type { Fragment } from "postgres";
import type { CallerSql } from "../as-caller.ts";
import type { Built, statsAnswer } from "./answers.ts";
import { readByIndexes, scopeWhere } from "./filters.ts";
import { type StatsQuery, WINDOWS } from "./schemas.ts";

type Answer = Built<typeof statsAnswer>;
type Counts = { completed: number; failed: number; dead: number; in_flight: number };

/** Where handler_minutes.durations' buckets end (ms, each bucket up to but not including its bound); the last holds the rest. */
export const HANDLER_DURATION_BUCKETS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export async function stats(tx: CallerSql, query: StatsQuery): Promise<Answer> {
  await readByIndexes(tx);
  const [{ operator }] = await tx<{ operator: boolean }[]>`select feyxa.reader_is_operator() as operator`;
  const fromRollups = operator && !query.tenant;
  const { windowed, ...open } = await openEvents(tx, query);
  const { byType, throughput, handlers } = fromRollups ? await rollupFlows(tx, query, windowed) : await logFlows(tx, query);
  return {
    window: query.window,
    bucket_seconds: WINDOWS[query.window].bucketSeconds,
    success_rate: byType.map((t) => {
      const finished = t.completed + t.failed + t.dead;
      return { ...t, rate: finished ? t.completed / finished : null };
    }),
    throughput,
    ...open,
    handlers,
  };
}

interface Flows {
  byType: (Counts & { event_type: string; total: number })[];
  throughput: (Counts & { bucket: Date })[];
  handlers: { handler_name: string; runs: number; failures: number; p50_ms: number; p95_ms: number }[];
}

type Open = Pick<Answer, "retry_queue" | "dead_letters"> & {
  /** The open events emitted in the window, by bucket, type and status. */
  windowed: { bucket: Date; event_type: string; status: string; n: number }[];
};

/**
 * What is open now (the queue): the retry queue's counts and next tries, the dead letters
 * (whenever they died: they wait for an operator), and the window's open events by bucket.
 * Open events are read through event_queue, which holds only them (events_log has no index
 * on status: see its table), each joined to its event once, for all four: at a million
 * events with twenty thousand open, that join is most of a stats call's time.
 */
async function openEvents(tx: CallerSql, query: StatsQuery): Promise<Open> {
  const { interval, bucketSeconds } = WINDOWS[query.window];
  const scope = scopeWhere(tx, query, "e");
  const [row] = await tx<{ counts: Answer["retry_queue"]; dead: Wire[]; next: Wire[]; windowed: Wire[] }[]>`
    with open as materialized (
      select e.id, e.event_type, e.tenant_id, e.status, e.created_at, e.processed_at, e.error_message,
             e.retry_count, e.max_retries, e.next_retry_at, q.due_at
      from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id
      where ${scope}
    )
    select
      (select json_build_object('failed', count(*) filter (where status = 'failed'), 'pending', count(*) filter (where status = 'pending'),
                                'processing', count(*) filter (where status = 'processing'), 'dead', count(*) filter (where status = 'dead'))
       from open) as counts,
      (select coalesce(json_agg(d order by d.count desc, d.event_type), '[]') from (
         select event_type, error_message as error, count(*)::int as count, max(processed_at) as last_at
         from open where status = 'dead' and due_at = 'infinity'
         group by event_type, error_message order by count desc, event_type limit 50) d) as dead,
      -- Each failed one with the retry budget of its real policy: the failing handler
      -- nearest its limit, by its route's max_attempts or the event's max_retries
      -- (looked up for the 25 shown only).
      (select coalesce(json_agg(n order by n.due_at), '[]') from (
         select o.id, o.event_type, o.tenant_id, o.retry_count, o.max_retries, o.next_retry_at, o.error_message, o.due_at,
                coalesce(b.attempts_used, o.retry_count) as attempts_used, coalesce(b.attempts_allowed, o.max_retries + 1) as attempts_allowed,
                b.handler_name as policy_handler, b.event_pattern as policy_route
         from (select * from open where status = 'failed' order by due_at limit 25) o
         left join lateral feyxa.monitor_retry_budget(o.id, o.event_type, o.retry_count, o.max_retries) b on true) n) as next,
      (select coalesce(json_agg(w), '[]') from (
         select to_timestamp(floor(extract(epoch from created_at) / ${bucketSeconds}) * ${bucketSeconds}) as bucket, event_type, status, count(*)::int as n
         from open where created_at >= now() - ${interval}::interval group by 1, 2, 3) w) as windowed`;
  return {
    retry_queue: {
      ...row.counts,
      next: row.next.map(({ due_at: _, ...n }) => ({ ...n, next_retry_at: dateOf(n.next_retry_at) }) as Answer["retry_queue"]["next"][number]),
    },
    dead_letters: row.dead.map((d) => ({ ...d, last_at: d.last_at === null ? null : dateOf(d.last_at) }) as Answer["dead_letters"][number]),
    windowed: row.windowed.map((w) => ({ ...w, bucket: dateOf(w.bucket) }) as Open["windowed"][number]),
  };
}

/** A row of a JSON aggregate: timestamps arrive as strings. */
type Wire = Record<string, unknown>;
const dateOf = (value: unknown) => new Date(value as string);

/** A tenant's view, from its own events in the log (RLS and the tenant index keep it to them). */
async function logFlows(tx: CallerSql, query: StatsQuery): Promise<Flows> {
  const { interval, bucketSeconds } = WINDOWS[query.window];
  const scope = scopeWhere(tx, query, "e");
  const since = tx`now() - ${interval}::interval`;
  const outcomes = tx`count(*) filter (where status = 'completed')::int as completed,
    count(*) filter (where status = 'failed')::int as failed,
    count(*) filter (where status = 'dead')::int as dead,
    count(*) filter (where status in ${tx(IN_FLIGHT_STATUSES)})::int as in_flight`;
  const byType = await tx<Flows["byType"]>`
    select event_type, count(*)::int as total, ${outcomes}
    from feyxa.events_log e
    where e.created_at >= ${since} and ${scope}
    group by event_type order by total desc, event_type limit 100`;
  const throughput = await tx<Flows["throughput"]>`
    with buckets as (
      select generate_series(to_timestamp(floor(extract(epoch from ${since}) / ${bucketSeconds}) * ${bucketSeconds}),
                             now(), make_interval(secs => ${bucketSeconds})) as bucket
    ), counted as (
      select to_timestamp(floor(extract(epoch from e.created_at) / ${bucketSeconds}) * ${bucketSeconds}) as bucket, ${outcomes}
      from feyxa.events_log e
      where e.created_at >= ${since} and ${scope}
      group by 1
    )
    select b.bucket, coalesce(c.completed, 0) as completed, coalesce(c.failed, 0) as failed,
           coalesce(c.dead, 0) as dead, coalesce(c.in_flight, 0) as in_flight
    from buckets b left join counted c using (bucket) order by b.bucket`;
  // Durations of the runs that did something in the window (not the idle ones: skipped,
  // waiting, blocked, deferred), of the caller's events.
  const handlers = await tx<Flows["handlers"]>`
    select h.handler_name, count(*)::int as runs, count(*) filter (where h.status = 'failed')::int as failures,
           round(percentile_cont(0.5) within group (order by h.duration_ms))::int as p50_ms,
           round(percentile_cont(0.95) within group (order by h.duration_ms))::int as p95_ms
    from feyxa.event_handlers_log h
    ${query.type || query.tenant ? tx`join feyxa.events_log e on e.id = h.event_id and ${scope}` : tx``}
    where h.created_at >= ${since} and h.status not in ${tx(IDLE_RUN_STATUSES)}
    group by h.handler_name order by h.handler_name`;
  return { byType, throughput, handlers };
}

/**
 * The whole bus's view, from the rollups. The window is split where the rollups can count
 * it exactly: whole minutes after the window's first, up to the rollups' cursor, from them;
 * the first partial minute and what is newer than the cursor, from the log (short ranges of
 * its created_at indexes). Where each emitted event stands: the open ones from the queue,
 * the closed ones from stats_closed, the rest completed.
 */
async function rollupFlows(tx: CallerSql, query: StatsQuery, open: Open["windowed"]): Promise<Flows> {
  const { interval, bucketSeconds } = WINDOWS[query.window];
  const type = query.type ? tx`like ${query.type.replace(/\*$/, "").replace(/[\\%_]/g, "\\$&") + "%"}` : tx`is not null`;
  const bucketOf = (column: string) => tx.unsafe(`to_timestamp(floor(extract(epoch from ${column}) / ${bucketSeconds}) * ${bucketSeconds})`);
  const [{ since, whole, cursor }] = await tx<{ since: Date; whole: Date; cursor: Date }[]>`
    select now() - ${interval}::interval as since, date_trunc('minute', now() - ${interval}::interval) + interval '1 minute' as whole,
           (select folded_to from feyxa.stats_cursor) as cursor`;
  // Emitted, per bucket and type: the rollup's whole minutes, and the log's edges.
  const emitted = await tx<{ bucket: Date; event_type: string; n: number }[]>`
    select ${bucketOf("minute")} as bucket, event_type, sum(emitted)::int as n
    from feyxa.stats_minutes where minute >= ${whole} and minute < ${cursor} and event_type ${type}
    group by 1, 2
    union all
    select ${bucketOf("e.created_at")}, e.event_type, count(*)::int
    from feyxa.events_log e
    where ((e.created_at >= ${since} and e.created_at < least(${whole}::timestamptz, ${cursor}::timestamptz))
           or e.created_at >= greatest(${cursor}::timestamptz, ${since}::timestamptz))
      and e.event_type ${type}
    group by 1, 2`;
  // Where the window's events stand: open ones from the queue (openEvents), closed ones counted apart.
  const closed = await tx<{ bucket: Date; event_type: string; n: number }[]>`
    select ${bucketOf("minute")} as bucket, event_type, sum(closed)::int as n
    from feyxa.stats_closed where minute >= date_trunc('minute', ${since}::timestamptz) and event_type ${type}
    group by 1, 2`;
  const flows = tallyFlows(emitted, open, closed);
  const throughput = (await tx<{ bucket: Date }[]>`
    select generate_series(to_timestamp(floor(extract(epoch from ${since}::timestamptz) / ${bucketSeconds}) * ${bucketSeconds}),
                           now(), make_interval(secs => ${bucketSeconds})) as bucket`)
    .map(({ bucket }) => ({ bucket, ...(flows.byBucket.get(bucket.getTime()) ?? { completed: 0, failed: 0, dead: 0, in_flight: 0 }) }));
  return { byType: flows.byType, throughput, handlers: await rollupHandlers(tx, { since, whole, cursor, type }) };
}

/** Counts per type and per bucket from emitted, open and closed counts: completed is the rest. */
function tallyFlows(
  emitted: { bucket: Date; event_type: string; n: number }[],
  open: { bucket: Date; event_type: string; status: string; n: number }[],
  closed: { bucket: Date; event_type: string; n: number }[],
) {
  const types = new Map<string, Counts & { total: number; closed: number }>();
  const buckets = new Map<number, Counts & { total: number; closed: number }>();
  const entry = <K>(map: Map<K, Counts & { total: number; closed: number }>, key: K) => {
    let e = map.get(key);
    if (!e) map.set(key, (e = { total: 0, completed: 0, failed: 0, dead: 0, in_flight: 0, closed: 0 }));
    return e;
  };
  for (const r of emitted) for (const e of [entry(types, r.event_type), entry(buckets, r.bucket.getTime())]) e.total += r.n;
  for (const r of open) {
    for (const e of [entry(types, r.event_type), entry(buckets, r.bucket.getTime())]) {
      if ((IN_FLIGHT_STATUSES as readonly string[]).includes(r.status)) e.in_flight += r.n;
      else if ((FAILING_STATUSES as readonly string[]).includes(r.status)) e[r.status as "failed" | "dead"] += r.n;
    }
  }
  for (const r of closed) for (const e of [entry(types, r.event_type), entry(buckets, r.bucket.getTime())]) e.closed += r.n;
  const settle = ({ closed: done, ...e }: Counts & { total: number; closed: number }) =>
    ({ ...e, completed: Math.max(0, e.total - e.in_flight - e.failed - e.dead - done) });
  const byType = [...types].filter(([, e]) => e.total > 0).map(([event_type, e]) => {
    const { total, ...counts } = settle(e);
    return { event_type, total, ...counts };
  }).sort((a, b) => b.total - a.total || a.event_type.localeCompare(b.event_type)).slice(0, 100);
  const byBucket = new Map([...buckets].map(([at, e]) => {
    const { total: _, ...counts } = settle(e);
    return [at, counts] as const;
  }));
  return { byType, byBucket };
}

/**
 * Handler runs over the window, from handler_minutes' histograms and the log's edges (whose
 * durations go into the same buckets): runs, failures, and p50 / p95 read from the
 * histogram (within its bucket, by linear interpolation: an estimate to a bucket's width).
 */
async function rollupHandlers(tx: CallerSql, at: { since: Date; whole: Date; cursor: Date; type: Fragment }): Promise<Flows["handlers"]> {
  const bounds = tx.unsafe(`'{0,${HANDLER_DURATION_BUCKETS.join(",")}}'::int[]`);
  const sums = tx.unsafe(`array[${[...HANDLER_DURATION_BUCKETS, null].map((_, i) => `sum(durations[${i + 1}])::int`).join(", ")}]`);
  const rows = await tx<{ handler_name: string; runs: number; failures: number; durations: number[] }[]>`
    select handler_name, sum(runs)::int as runs, sum(failures)::int as failures, ${sums} as durations
    from (
      select handler_name, runs, failures, durations from feyxa.handler_minutes
      where minute >= ${at.whole} and minute < ${at.cursor} and event_type ${at.type}
      union all
      select h.handler_name, 1, (h.status = 'failed')::int,
             array(select (width_bucket(h.duration_ms, ${bounds}) = i)::int from generate_series(1, ${HANDLER_DURATION_BUCKETS.length + 1}) i)
      from feyxa.event_handlers_log h join feyxa.events_log e on e.id = h.event_id
      where ((h.created_at >= ${at.since} and h.created_at < least(${at.whole}::timestamptz, ${at.cursor}::timestamptz))
             or h.created_at >= greatest(${at.cursor}::timestamptz, ${at.since}::timestamptz))
        and h.status in ('success', 'failed') and e.event_type ${at.type}
    ) parts
    group by handler_name order by handler_name`;
  return rows.map(({ durations, ...r }) => ({ ...r, p50_ms: percentile(durations, 0.5), p95_ms: percentile(durations, 0.95) }));
}

/** The q-th percentile (ms) of a histogram over HANDLER_DURATION_BUCKETS, interpolated within its bucket. */
export function percentile(counts: number[], q: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let rank = q * total;
  for (let i = 0; i < counts.length; i++) {
    if (rank <= counts[i] && counts[i] > 0) {
      const low = i === 0 ? 0 : HANDLER_DURATION_BUCKETS[i - 1];
      const high = HANDLER_DURATION_BUCKETS[i] ?? HANDLER_DURATION_BUCKETS.at(-1)! * 2;
      return Math.round(low + (high - low) * (rank / counts[i]));
    }
    rank -= counts[i];
  }
  return HANDLER_DURATION_BUCKETS.at(-1)!;
}
