/** The monitor's event reads: a keyset-paginated list, and one event in full. */
import { HttpError } from "../../errors.ts";
import type { EventStatus, HandlerRunStatus, WaitingReason } from "../../vocabulary.ts";
import type { CallerSql } from "../as-caller.ts";
import type { Built, eventDetail as detailAnswer, eventPage } from "./answers.ts";
import { decodeCursor, encodeCursor, listWhere, readByIndexes } from "./filters.ts";
import type { ListQuery } from "./schemas.ts";

export async function listEvents(tx: CallerSql, query: ListQuery): Promise<Built<typeof eventPage>> {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (query.cursor && !cursor) throw new HttpError(400, "invalid_request", "cursor: not a cursor this function made", "cursor");
  // A page is the newest few rows that match: walking an index newest-first always beats
  // reading the table and sorting it.
  await readByIndexes(tx);
  // One row more than asked tells whether there is a next page, without counting millions.
  const rows = await tx<(EventListRow & { cursor_at: string })[]>`
    select id, event_type, aggregate_type, aggregate_id, tenant_id, status, attempt, retry_count, max_retries,
           next_retry_at, error_message, idempotency_key, created_at, processed_at, ${waitingOf(tx, "events_log")} as waiting,
           created_at::text as cursor_at
    from feyxa.events_log
    where ${listWhere(tx, query, cursor)}
    order by created_at desc, id desc
    limit ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    events: page.map(({ cursor_at: _, ...event }) => event),
    next_cursor: rows.length > query.limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
  };
}

/** Why an event waits (feyxa.waiting_reason), from its queue row, by primary key; null off the queue. `alias`: a constant. */
const waitingOf = (tx: CallerSql, alias: "events_log" | "e") =>
  tx.unsafe(`(select feyxa.waiting_reason(${alias}.status, ${alias}.attempt, q.held, q.due_at, q.not_before)
              from feyxa.event_queue q where q.event_id = ${alias}.id)`);

interface EventListRow {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  status: EventStatus;
  attempt: number;
  retry_count: number;
  max_retries: number;
  next_retry_at: Date | null;
  error_message: string | null;
  idempotency_key: string;
  created_at: Date;
  processed_at: Date | null;
  waiting: WaitingReason | null;
}

interface HandlerRunRow {
  attempt: number;
  handler_name: string;
  status: HandlerRunStatus;
  duration_ms: number;
  error_message: string | null;
  created_at: Date;
}

/** One event the caller may see, with every attempt's handler runs; 404 when there is none (or it is not theirs). */
export async function eventDetail(tx: CallerSql, eventId: string): Promise<Built<typeof detailAnswer>> {
  // The list's columns, the payload and the first claim: what the answer shows of the row;
  // its flow control's columns are read for `flow` (the lease and trace columns are not shown).
  const [row] = await tx<(EventListRow & FlowColumns & { payload: unknown; first_claimed_at: Date | null; tenant_name: string | null })[]>`
    select e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.tenant_id, e.status, e.attempt, e.retry_count,
           e.max_retries, e.next_retry_at, e.error_message, e.idempotency_key, e.created_at, e.processed_at,
           e.payload, e.first_claimed_at, e.deliver_at, e.priority, e.ordering_key, e.ordering_seq,
           ${waitingOf(tx, "e")} as waiting, feyxa.tenant_label(e.tenant_id) as tenant_name
    from feyxa.events_log e
    where e.id = ${eventId}::uuid`;
  if (!row) throw new HttpError(404, "not_found", `no event with id ${eventId} that you may see`, "event_id");
  const { deliver_at: _, priority: __, ordering_key: ___, ordering_seq: ____, ...event } = row;
  const runs = await tx<HandlerRunRow[]>`
    select attempt, handler_name, status, duration_ms, error_message, created_at
    from feyxa.event_handlers_log where event_id = ${eventId}::uuid
    order by attempt, handler_name`;
  const [routing] = await tx<{ routed: string[]; owed: string[]; steps: Record<string, string[]> }[]>`
    select feyxa.monitor_routed_handlers(${event.event_type}) as routed,
           feyxa.monitor_owed_handlers(${eventId}::uuid, ${event.event_type}) as owed,
           feyxa.monitor_route_steps(${event.event_type}) as steps`;
  // An event-sourced aggregate's timeline: its stream, in version order (empty for the others).
  const timeline = await tx<{ version: number; event_id: string; event_type: string; status: EventStatus; created_at: Date }[]>`
    select s.version, s.event_id, e.event_type, e.status, e.created_at
    from feyxa.aggregate_stream_events s join feyxa.events_log e on e.id = s.event_id
    where s.aggregate_type = ${event.aggregate_type} and s.aggregate_id = ${event.aggregate_id}::uuid
    order by s.version limit 500`;
  // Each remote handler run's HTTP answer (status, first 200 characters), by attempt.
  const deliveries = await tx<{ handler_name: string; attempt: number; status_code: number | null; response_excerpt: string | null; duration_ms: number; created_at: Date }[]>`
    select handler_name, attempt, status_code, response_excerpt, duration_ms, created_at
    from feyxa.webhook_deliveries where event_id = ${eventId}::uuid order by attempt, handler_name`;
  // The aggregate's other events, whatever their kind (newest first, from the aggregate index).
  const related = await tx<{ id: string; event_type: string; status: EventStatus; created_at: Date }[]>`
    select id, event_type, status, created_at from feyxa.events_log
    where aggregate_id = ${event.aggregate_id}::uuid and id <> ${eventId}::uuid
    order by created_at desc limit 50`;
  const flow = await flowOf(tx, eventId, row);
  const waiting = await waitingDetail(tx, row, flow.held_behind, runs);
  const attempts = new Map<number, HandlerRunRow[]>();
  for (const run of runs) attempts.set(run.attempt, [...(attempts.get(run.attempt) ?? []), run]);
  const ms = (from: Date | null, to: Date | null) => (from && to ? to.getTime() - from.getTime() : null);
  return {
    event,
    attempts: [...attempts].map(([attempt, handlers]) => ({ attempt, handlers })),
    routed_handlers: routing.routed,
    owed_handlers: routing.owed,
    /** Handler -> the routed handlers it runs after (`after`), for those that wait for some. */
    route_steps: routing.steps,
    flow,
    waiting,
    timeline,
    deliveries,
    related,
    timings: {
      created_at: event.created_at,
      first_claimed_at: event.first_claimed_at,
      processed_at: event.processed_at,
      wait_ms: ms(event.created_at, event.first_claimed_at),
      total_ms: ms(event.created_at, event.processed_at),
    },
  };
}

interface FlowColumns { deliver_at: Date | null; priority: number; ordering_key: string | null; ordering_seq: string | null }

/**
 * The flow control an event is under: scheduled for later, its priority, and its line
 * (held behind which event, how many wait behind it). The line is read from event_queue,
 * which holds the open events only.
 */
async function flowOf(tx: CallerSql, eventId: string, event: EventListRow & FlowColumns) {
  const [line] = event.ordering_key
    ? await tx<{ held: boolean; held_behind: string | null; waiting: number }[]>`
        select q.held,
               -- The line's head: the one event of it in the queue unheld, found backwards from
               -- this one through events_log's line index (the queue indexes held rows only).
               case when q.held then (
                 select e.id from feyxa.events_log e join feyxa.event_queue h on h.event_id = e.id
                 where e.ordering_key = q.ordering_key and e.ordering_seq < q.ordering_seq and not h.held and h.ordering_key is not null
                 order by e.ordering_seq desc limit 1) end as held_behind,
               (select count(*)::int from feyxa.event_queue w where w.ordering_key = q.ordering_key and w.held) as waiting
        from feyxa.event_queue q where q.event_id = ${eventId}::uuid and q.ordering_key is not null`
    : [];
  return {
    scheduled: event.status === "pending" && event.deliver_at !== null && event.deliver_at.getTime() > Date.now(),
    deliver_at: event.deliver_at,
    priority: event.priority,
    ordering_key: event.ordering_key,
    ordering_seq: event.ordering_seq === null ? null : Number(event.ordering_seq),
    held: line?.held ?? false,
    held_behind: line?.held ? line.held_behind : null,
    waiting_behind: line && !line.held ? line.waiting : 0,
  };
}

/**
 * Why an event waits, in full (null when it does not): until when, the event it is held
 * behind, the paused routes it owes and its failed handlers' policies (feyxa.monitor_waiting,
 * which reads the routing the caller cannot), the rate limits that deferred its last attempt.
 */
async function waitingDetail(tx: CallerSql, event: EventListRow & FlowColumns, heldBehind: string | null, runs: HandlerRunRow[]) {
  if (!event.waiting) return null;
  const [blocker] = heldBehind
    ? await tx<{ id: string; event_type: string; status: EventStatus; error_message: string | null }[]>`
        select id, event_type, status, error_message from feyxa.events_log where id = ${heldBehind}::uuid`
    : [];
  const [{ routing }] = await tx<{ routing: { paused_routes: { event_pattern: string; handler_name: string; paused_at: string; paused_by: string | null; reason: string | null }[]; retries: { handler_name: string; failures: number; max_attempts: number; route_policy: boolean }[] } | null }[]>`
    select feyxa.monitor_waiting(${event.id}::uuid) as routing`;
  const until = event.waiting === "retrying" ? event.next_retry_at
    : event.waiting === "scheduled" ? event.deliver_at
    : event.waiting === "deferred" ? event.next_retry_at : null;
  return {
    reason: event.waiting,
    until,
    blocker: blocker ?? null,
    paused_routes: (routing?.paused_routes ?? []).map((r) => ({ ...r, paused_at: new Date(r.paused_at) })),
    deferred_by: event.waiting === "deferred"
      ? runs.filter((r) => r.attempt === event.attempt && r.status === "deferred").map((r) => ({ handler_name: r.handler_name, message: r.error_message }))
      : [],
    retries: routing?.retries ?? [],
  };
}
