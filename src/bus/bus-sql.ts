/**
 * Every statement the TypeScript side sends to the bus's SQL functions, and nothing
 * else: the state transitions themselves live in supabase/migrations.
 */
import type { JSONValue } from "postgres";
import { HttpError } from "./errors.ts";
import type { AttemptResult, ClaimedEvent, EventStatus, HandlerRun, NewEvent, Queryable, Sql } from "./types.ts";

interface ClaimedRow {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  payload: Record<string, unknown>;
  idempotency_key: string;
  attempt: number;
  retry_count: number;
  max_retries: number;
  created_at: Date;
  succeeded_handlers: string[];
  trace_parent: string | null;
  causation_id: string | null;
  correlation_id: string | null;
}

function toClaimed(row: ClaimedRow): ClaimedEvent {
  return {
    id: row.id,
    type: row.event_type,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    tenantId: row.tenant_id,
    payload: row.payload,
    idempotencyKey: row.idempotency_key,
    attempt: row.attempt,
    retryCount: row.retry_count,
    maxRetries: row.max_retries,
    createdAt: row.created_at,
    succeededHandlers: row.succeeded_handlers ?? [],
    traceParent: row.trace_parent ?? null,
    causationId: row.causation_id ?? null,
    correlationId: row.correlation_id ?? row.id,
  };
}

/** A JSON parameter. (A string cast to ::jsonb would be sent JSON-encoded a second time.) */
const asJson = (sql: Queryable, value: unknown) => sql.json(value as JSONValue);

const seconds = (ms: number) => `${ms / 1000} seconds`;

export interface EmitReport {
  eventId: string;
  inserted: boolean;
}

/** When an emit asks to be delivered: its deliver_at, or now plus its delay; null for at once. */
function deliverAt(e: NewEvent): string | null {
  if (e.deliver_at != null && e.delay != null) throw new HttpError(400, "invalid_request", "delay: give deliver_at or delay, not both", "delay");
  if (e.deliver_at != null) {
    const at = e.deliver_at instanceof Date ? e.deliver_at : new Date(e.deliver_at);
    if (Number.isNaN(at.getTime())) throw new HttpError(400, "invalid_request", "deliver_at: must be a time (ISO 8601)", "deliver_at");
    return at.toISOString();
  }
  return e.delay != null ? new Date(Date.now() + e.delay * 1000).toISOString() : null;
}

/** emit_event, reporting whether the event is new. Runs in the caller's transaction when given one. */
export async function emitEvent(sql: Queryable, e: NewEvent): Promise<EmitReport> {
  const [row] = await sql<{ event_id: string; inserted: boolean }[]>`
    select event_id, inserted from feyxa.emit_event_report(
      ${e.event_type}, ${e.aggregate_type}, ${e.aggregate_id}::uuid, ${e.tenant_id ?? null}::uuid,
      ${asJson(sql, e.payload ?? {})}, ${e.idempotency_key ?? null},
      ${deliverAt(e)}::timestamptz, ${e.priority ?? null}::int, ${e.ordering_key ?? null})`;
  return { eventId: row.event_id, inserted: row.inserted };
}

/** emit_events: many events in one statement (all or nothing). */
export async function emitEvents(sql: Queryable, events: NewEvent[]): Promise<EmitReport[]> {
  const rows = await sql<{ event_id: string; inserted: boolean }[]>`
    select event_id, inserted from feyxa.emit_events(${asJson(sql, events)})`;
  return rows.map((r) => ({ eventId: r.event_id, inserted: r.inserted }));
}

export async function claimEvents(sql: Sql, worker: string, limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
  const rows = await sql<ClaimedRow[]>`select * from feyxa.claim_events(${worker}, ${limit}, ${seconds(leaseMs)}::interval)`;
  return rows.map(toClaimed);
}

export async function claimEvent(sql: Queryable, eventId: string, worker: string, leaseMs: number): Promise<ClaimedEvent | undefined> {
  const rows = await sql<ClaimedRow[]>`select * from feyxa.claim_event(${eventId}::uuid, ${worker}, ${seconds(leaseMs)}::interval)`;
  return rows[0] && toClaimed(rows[0]);
}

/** The id of an event due now that no worker holds (the head of the queue), if any. */
export async function nextDueEvent(sql: Sql): Promise<string | undefined> {
  const [row] = await sql<{ event_id: string }[]>`
    select event_id from feyxa.event_queue
    where locked_by is null and due_at <= now() and (not_before is null or not_before <= now()) order by due_at limit 1`;
  return row?.event_id;
}

/**
 * Asks the database for a drain wake-up of process-event about this event: the coalesced
 * pg_net call the emit path sends. Does nothing where pg_net or functions_url is missing.
 */
export async function wakeByHttp(sql: Sql, eventId: string): Promise<void> {
  await sql`select feyxa.wake_dispatchers_by_http(${eventId}::uuid)`;
}

/** Returns the ids whose lease this worker still holds. */
export async function renewLeases(sql: Sql, worker: string, eventIds: string[], leaseMs: number): Promise<Set<string>> {
  const rows = await sql<{ id: string }[]>`
    select renew_leases as id from feyxa.renew_leases(${worker}, ${eventIds}::uuid[], ${seconds(leaseMs)}::interval)`;
  return new Set(rows.map((r) => r.id));
}

export async function releaseEvents(sql: Sql, worker: string, eventIds: string[]): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select feyxa.release_events(${worker}, ${eventIds}::uuid[]) as n`;
  return row.n;
}

export async function completeAttempts(
  sql: Sql,
  worker: string,
  results: AttemptResult[],
): Promise<Map<string, { status: EventStatus; leaseHeld: boolean }>> {
  const rows = await sql<{ event_id: string; status: EventStatus; lease_held: boolean }[]>`
    select * from feyxa.complete_attempts(${worker}, ${asJson(sql, results)})`;
  return new Map(rows.map((r) => [r.event_id, { status: r.status, leaseHeld: r.lease_held }]));
}

export interface Subscription {
  event_pattern: string;
  handler_name: string;
  /** The handlers this route runs after (src/bus/steps.ts); empty for most. */
  after_handlers: string[];
  /** Paused by an operator (event_subscriptions.paused_at): routed, but its handler waits. */
  paused?: boolean;
}

export async function activeSubscriptions(sql: Sql): Promise<Subscription[]> {
  return await sql<Subscription[]>`
    select event_pattern, handler_name, after_handlers, paused_at is not null as paused
    from feyxa.event_subscriptions where is_active order by event_pattern, handler_name`;
}

/** The keys of the rate limits that exist (feyxa.rate_limits): only their handlers take tokens. */
export async function rateLimitKeys(sql: Sql): Promise<Set<string>> {
  return new Set((await sql<{ key: string }[]>`select key from feyxa.rate_limits`).map((r) => r.key));
}

/** Takes a token of a rate limit: 0 when taken, else the milliseconds until one is there. */
export async function takeRateToken(sql: Queryable, key: string): Promise<number> {
  const [{ wait }] = await sql<{ wait: number }[]>`select feyxa.take_rate_token(${key}) as wait`;
  return wait;
}

export interface EventSummary {
  eventId: string;
  status: EventStatus;
  attempt: number;
  retryCount: number;
  nextRetryAt: Date | null;
  errorMessage: string | null;
  /** The handler runs of the latest attempt. */
  handlers: HandlerRun[];
}

/** An event's status and its latest attempt's handler runs; undefined when there is no such event. */
export async function eventSummary(sql: Sql, eventId: string): Promise<EventSummary | undefined> {
  const [event] = await sql<{ status: EventStatus; attempt: number; retry_count: number; next_retry_at: Date | null; error_message: string | null }[]>`
    select status, attempt, retry_count, next_retry_at, error_message from feyxa.events_log where id = ${eventId}::uuid`;
  if (!event) return undefined;
  const handlers = await sql<HandlerRun[]>`
    select handler_name, status, duration_ms, error_message from feyxa.event_handlers_log
    where event_id = ${eventId}::uuid and attempt = ${event.attempt}
    order by handler_name`;
  return {
    eventId,
    status: event.status,
    attempt: event.attempt,
    retryCount: event.retry_count,
    nextRetryAt: event.next_retry_at,
    errorMessage: event.error_message,
    handlers: handlers.map((h) => ({ ...h, error_message: h.error_message ?? undefined })),
  };
}
