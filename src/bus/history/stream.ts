/**
 * Event-sourced streams (seed 001): append with optimistic concurrency, read in version
 * order. The SQL (append_to_stream) decides; this is its TypeScript face.
 */
import type { NewEvent, Queryable } from "../types.ts";

export interface Appended {
  eventId: string;
  version: number;
  inserted: boolean;
}

/** Appends to the aggregate's stream; with expectedVersion, fails (55000 → 409) if another writer got there first. */
export async function appendToStream(sql: Queryable, event: NewEvent, expectedVersion?: number): Promise<Appended> {
  const [row] = await sql<{ event_id: string; version: number; inserted: boolean }[]>`
    select * from feyxa.append_to_stream(${event.event_type}, ${event.aggregate_type}, ${event.aggregate_id}::uuid, ${event.tenant_id ?? null}::uuid,
                                   ${sql.json((event.payload ?? {}) as never)}, ${expectedVersion ?? null}::int, ${event.idempotency_key ?? null})`;
  return { eventId: row.event_id, version: row.version, inserted: row.inserted };
}

export interface StreamEvent {
  version: number;
  eventId: string;
  type: string;
  payload: Record<string, unknown>;
  at: Date;
}

export async function readStream(sql: Queryable, aggregateType: string, aggregateId: string, afterVersion = 0): Promise<StreamEvent[]> {
  const rows = await sql<{ version: number; event_id: string; event_type: string; payload: Record<string, unknown>; created_at: Date }[]>`
    select s.version, s.event_id, l.event_type, l.payload, l.created_at
    from feyxa.aggregate_stream_events s join feyxa.events_log l on l.id = s.event_id
    where s.aggregate_type = ${aggregateType} and s.aggregate_id = ${aggregateId}::uuid and s.version > ${afterVersion}
    order by s.version`;
  return rows.map((r) => ({ version: r.version, eventId: r.event_id, type: r.event_type, payload: r.payload, at: r.created_at }));
}
