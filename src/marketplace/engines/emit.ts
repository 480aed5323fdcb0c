/**
 * Emitting from TypeScript, typed by the catalog: `emit(bus, "payment.paid", {aggregate_id, payload})`
 * checks the payload before it reaches the database and derives the aggregate type.
 */
import type { z } from "zod";
import { type Bus, type EmitReport, parseWith, type Queryable } from "../../bus/index.ts";
import { aggregateTypeOf, eventCatalog, type EventCatalog, type EventType } from "./catalog.ts";

export interface TypedEvent<T extends EventType> {
  aggregate_id: string;
  /** The store the event belongs to: the bus's tenant key. */
  store_id?: string | null;
  payload: z.input<EventCatalog[T]>;
  idempotency_key?: string;
}

export async function emit<T extends EventType>(bus: Bus, type: T, event: TypedEvent<T>, sql?: Queryable): Promise<EmitReport> {
  parseWith(eventCatalog[type], event.payload, "payload");
  return await bus.emit({
    event_type: type, aggregate_type: aggregateTypeOf(type), aggregate_id: event.aggregate_id, tenant_id: event.store_id,
    payload: event.payload as Record<string, unknown>, idempotency_key: event.idempotency_key,
  }, sql);
}
