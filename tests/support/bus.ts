/** Small helpers for tests that drive the bus. */
import { Bus, type BusOptions } from "../../src/bus/bus.ts";
import { defineHandler } from "../../src/bus/define-handler.ts";
import type { ClaimedEvent, EventStatus, Handler, Sql } from "../../src/bus/types.ts";

export const uuid = () => crypto.randomUUID();

export function testBus(sql: Sql, handlers: Handler[], options: Partial<BusOptions> = {}): Bus {
  return new Bus({ sql, handlers, subscriptionTtlMs: 0, onError: () => {}, ...options });
}

/** A bus whose claims (claimDue) each wait `delayMs` before they are sent, as over a slow database; it counts them. */
export class SlowClaimsBus extends Bus {
  claimsSent = 0;

  constructor(options: BusOptions, readonly delayMs: number) {
    super(options);
  }

  override async claimDue(limit: number): Promise<ClaimedEvent[]> {
    this.claimsSent++;
    await new Promise((r) => setTimeout(r, this.delayMs));
    return await super.claimDue(limit);
  }
}

export async function subscribe(sql: Sql, pattern: string, ...handlerNames: string[]): Promise<void> {
  for (const name of handlerNames) {
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name) values (${pattern}, ${name})
              on conflict (event_pattern, handler_name) do update set is_active = true`;
  }
}

/** A handler that counts its runs per event, optionally failing while `fail()` says so. */
export function countingHandler(name: string, fail: (attempt: number) => Error | undefined = () => undefined) {
  const runs = new Map<string, number>();
  const handler = defineHandler(name, async (event) => {
    runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
    const error = fail(event.attempt);
    if (error) throw error;
  });
  return { handler, runs, total: () => [...runs.values()].reduce((a, b) => a + b, 0) };
}

export async function emitTest(bus: Bus, eventType: string, payload: Record<string, unknown> = {}): Promise<string> {
  const { eventId } = await bus.emit({ event_type: eventType, aggregate_type: "test", aggregate_id: uuid(), payload });
  return eventId;
}

export async function eventRow(sql: Sql, id: string) {
  const [row] = await sql<{ status: EventStatus; attempt: number; retry_count: number; next_retry_at: Date | null; error_message: string | null; locked_by: string | null }[]>`
    select status, attempt, retry_count, next_retry_at, error_message, locked_by from feyxa.events_log where id = ${id}::uuid`;
  return row;
}

export async function handlerRows(sql: Sql, id: string) {
  return await sql<{ handler_name: string; attempt: number; status: string; duration_ms: number; error_message: string | null }[]>`
    select handler_name, attempt, status, duration_ms, error_message from feyxa.event_handlers_log
    where event_id = ${id}::uuid order by attempt, handler_name`;
}

/** Brings a failed event's retry time forward to now (all failed events without an id), instead of waiting minutes. */
export async function makeDue(sql: Sql, id?: string): Promise<void> {
  await sql`
    with due as (
      update feyxa.events_log set next_retry_at = now()
      where status = 'failed' and (${id ?? null}::uuid is null or id = ${id ?? null}::uuid) returning id
    )
    select feyxa.enqueue_events(array(select id from due))`;
}

/** `n` rows of a handler's runs in its log, with this status, as if they had just run (what failure_rate alerts read). */
export const logRuns = (sql: Sql, handler: string, status: string, n: number) => sql`
  insert into feyxa.event_handlers_log (event_id, handler_name, attempt, status)
  select gen_random_uuid(), ${handler}, 1, ${status} from generate_series(1, ${n})`;

/** One outgoing webhook delivery of a remote handler, answered `status` (null: no answer) `ago` (an interval) ago. */
export const logDelivery = (sql: Sql, handler: string, status: number | null, ago: string) => sql`
  insert into feyxa.webhook_deliveries (event_id, handler_name, attempt, status_code, created_at)
  values (gen_random_uuid(), ${handler}, 1, ${status}, now() - ${ago}::interval)`;

/** Makes an event dead at once, as if its retries had run out (the queue parks it for an operator). */
export async function markDead(sql: Sql, id: string, error: string | null = null): Promise<void> {
  await sql`
    with dead as (
      update feyxa.events_log set status = 'dead', retry_count = max_retries, next_retry_at = null, processed_at = now(),
             locked_by = null, locked_until = null, error_message = coalesce(${error}, error_message)
      where id = ${id}::uuid returning id
    )
    select feyxa.enqueue_events(array(select id from dead), 'infinity')`;
}
