/**
 * Emits from TypeScript, traced: a PRODUCER span per emit call, whose context the emitting
 * transaction hands to the database (set_config('feyxa.traceparent', …, true)) so that
 * events_log.trace_parent stores it (supabase/schemas/bus/events.sql). Called only when tracingOn().
 */
import { SpanKind } from "@opentelemetry/api";
import { withLocalSettings } from "../local-settings.ts";
import type { NewEvent, Queryable } from "../types.ts";
import { inSpan, traceparentOf } from "./tracing.ts";

/**
 * Runs an emit inside a `feyxa.emit` span (the event's type, aggregate and tenant as attributes
 * when it is one event), in a transaction that hands the span's context to the database.
 */
export function tracedEmit<T>(events: NewEvent[], sql: Queryable, emit: (tx: Queryable) => Promise<T>): Promise<T> {
  const [first] = events;
  const attributes = events.length === 1
    ? {
      "messaging.system": "feyxa",
      "messaging.operation.type": "send",
      "messaging.destination.name": first.event_type,
      "feyxa.event.type": first.event_type,
      "feyxa.aggregate.type": first.aggregate_type,
      "feyxa.aggregate.id": first.aggregate_id,
      ...(first.tenant_id ? { "feyxa.tenant.id": first.tenant_id } : {}),
    }
    : { "messaging.system": "feyxa", "messaging.operation.type": "send", "messaging.batch.message_count": events.length };
  return inSpan(events.length === 1 ? `feyxa.emit ${first.event_type}` : "feyxa.emit", { kind: SpanKind.PRODUCER, attributes },
    () => carryingTrace(sql, emit));
}

/**
 * Runs fn where the events it emits store the active span's traceparent: in the caller's
 * transaction (the setting then lasts until it ends), or in one begun for it. No span: fn(sql).
 */
export async function carryingTrace<T>(sql: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const traceparent = traceparentOf();
  if (!traceparent) return await fn(sql);
  const set = (tx: Queryable) => tx`select set_config('feyxa.traceparent', ${traceparent}, true)`;
  return await withLocalSettings(sql, set, fn);
}
