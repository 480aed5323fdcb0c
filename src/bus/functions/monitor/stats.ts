/**
 * The monitor's numbers over a window, as the caller may see them (RLS applies):
 * success rate per type, throughput per time bucket by outcome, the retry queue, dead
 * letters grouped by type and error, and handler duration percentiles.
 */
import { IDLE_RUN_STATUSES, IN_FLIGHT_STATUSES } from "../../vocabulary.ts";
import type { CallerSql } from "../as-caller.ts";
import type { Built, statsAnswer } from "./answers.ts";
import { scopeWhere } from "./filters.ts";
import { type StatsQuery, WINDOWS } from "./schemas.ts";

export async function stats(tx: CallerSql, query: StatsQuery): Promise<Built<typeof statsAnswer>> {
  const { interval, bucketSeconds } = WINDOWS[query.window];
  const scope = scopeWhere(tx, query, "e");
  const since = tx`now() - ${interval}::interval`;
  // Where the events stand now: the columns of the success rate and of the throughput chart.
  const outcomes = tx`count(*) filter (where status = 'completed')::int as completed,
    count(*) filter (where status = 'failed')::int as failed,
    count(*) filter (where status = 'dead')::int as dead,
    count(*) filter (where status in ${tx(IN_FLIGHT_STATUSES)})::int as in_flight`;

  // Events emitted in the window, by type and where they stand now.
  const byType = await tx<{ event_type: string; total: number; completed: number; failed: number; dead: number; in_flight: number }[]>`
    select event_type, count(*)::int as total,
           ${outcomes}
    from feyxa.events_log e
    where e.created_at >= ${since} and ${scope}
    group by event_type order by total desc, event_type limit 100`;

  // Emitted per bucket, by outcome; empty buckets included so the chart keeps its time axis.
  const throughput = await tx<{ bucket: Date; completed: number; failed: number; dead: number; in_flight: number }[]>`
    with buckets as (
      select generate_series(to_timestamp(floor(extract(epoch from ${since}) / ${bucketSeconds}) * ${bucketSeconds}),
                             now(), make_interval(secs => ${bucketSeconds})) as bucket
    ), counted as (
      select to_timestamp(floor(extract(epoch from e.created_at) / ${bucketSeconds}) * ${bucketSeconds}) as bucket,
             ${outcomes}
      from feyxa.events_log e
      where e.created_at >= ${since} and ${scope}
      group by 1
    )
    select b.bucket, coalesce(c.completed, 0) as completed, coalesce(c.failed, 0) as failed,
           coalesce(c.dead, 0) as dead, coalesce(c.in_flight, 0) as in_flight
    from buckets b left join counted c using (bucket) order by b.bucket`;

  // What will run when: failed events by due time (not windowed: the queue is now). Open
  // events are read through event_queue, which holds only them (events_log has no index
  // on status: see its table). Each with the retry budget of its real policy: the failing
  // handler nearest its limit, by its route's max_attempts or the event's max_retries.
  const retryQueue = await tx<Built<typeof statsAnswer>["retry_queue"]["next"]>`
    select e.id, e.event_type, e.tenant_id, e.retry_count, e.max_retries, e.next_retry_at, e.error_message,
           coalesce(b.attempts_used, e.retry_count) as attempts_used, coalesce(b.attempts_allowed, e.max_retries + 1) as attempts_allowed,
           b.handler_name as policy_handler, b.event_pattern as policy_route
    from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id
    left join lateral feyxa.monitor_retry_budget(e.id, e.event_type, e.retry_count, e.max_retries) b on true
    where e.status = 'failed' and ${scope}
    order by q.due_at limit 25`;
  const [queue] = await tx<{ failed: number; pending: number; processing: number; dead: number }[]>`
    select count(*) filter (where e.status = 'failed')::int as failed,
           count(*) filter (where e.status = 'pending')::int as pending,
           count(*) filter (where e.status = 'processing')::int as processing,
           count(*) filter (where e.status = 'dead')::int as dead
    from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id where ${scope}`;

  // Dead letters, whenever they died: they wait for an operator.
  const deadLetters = await tx<{ event_type: string; error: string | null; count: number; last_at: Date | null }[]>`
    select e.event_type, e.error_message as error, count(*)::int as count, max(e.processed_at) as last_at
    from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id
    where q.due_at = 'infinity' and e.status = 'dead' and ${scope}
    group by event_type, error_message order by count desc, event_type limit 50`;

  // Durations of handler runs in the window (idle runs, skipped, waiting, blocked or
  // deferred, did nothing and are left out).
  const handlers = await tx<{ handler_name: string; runs: number; failures: number; p50_ms: number; p95_ms: number }[]>`
    select h.handler_name, count(*)::int as runs, count(*) filter (where h.status = 'failed')::int as failures,
           round(percentile_cont(0.5) within group (order by h.duration_ms))::int as p50_ms,
           round(percentile_cont(0.95) within group (order by h.duration_ms))::int as p95_ms
    from feyxa.event_handlers_log h
    ${query.type || query.tenant ? tx`join feyxa.events_log e on e.id = h.event_id and ${scope}` : tx``}
    where h.created_at >= ${since} and h.status not in ${tx(IDLE_RUN_STATUSES)}
    group by h.handler_name order by h.handler_name`;

  return {
    window: query.window,
    bucket_seconds: bucketSeconds,
    success_rate: byType.map((t) => {
      const finished = t.completed + t.failed + t.dead;
      return { ...t, rate: finished ? t.completed / finished : null };
    }),
    throughput,
    retry_queue: { ...queue, next: retryQueue },
    dead_letters: deadLetters,
    handlers,
  };
}
