/**
 * Emit: events per second from 16 concurrent connections, one event per call (ours:
 * emit_event), beside the ceiling of a plain single-row INSERT into a table shaped like
 * events_log; then batched (ours: emit_events) against each peer's batched enqueue.
 * No worker runs meanwhile: this is the producer's cost alone.
 */
import postgres from "postgres";
import type { BenchSystem } from "../systems/system.ts";
import type { BenchServer } from "../support/server.ts";
import { ratePerSecond } from "../support/timing.ts";

export const EMIT_CONNECTIONS = 16;
export const EMIT_BATCH = 100;

export async function emitRate(system: BenchSystem, server: BenchServer, durationMs: number, batched: boolean): Promise<number> {
  const db = await system.setup(server);
  const producer = await system.producer(db.url, EMIT_CONNECTIONS);
  try {
    if (!batched) return await ratePerSecond(EMIT_CONNECTIONS, durationMs, (i) => producer.emitOne(i));
    return EMIT_BATCH * await ratePerSecond(EMIT_CONNECTIONS, durationMs, (i) => producer.emitBatch(i * EMIT_BATCH, EMIT_BATCH));
  } finally {
    await producer.close();
    await db.drop();
  }
}

/** The ceiling: a plain single-row INSERT (no function, no validation, no NOTIFY) into a copy of events_log. */
export async function plainInsertRate(server: BenchServer, durationMs: number): Promise<number> {
  const db = await server.feyxaDatabase();
  await db.sql`create table plain_events (like feyxa.events_log including defaults including constraints including indexes)`;
  const sql = postgres(db.url, { max: EMIT_CONNECTIONS, onnotice: () => {} });
  try {
    return await ratePerSecond(EMIT_CONNECTIONS, durationMs, (i) => sql`
      insert into plain_events (event_type, aggregate_type, aggregate_id, payload, idempotency_key)
      values ('bench.event', 'bench', ${crypto.randomUUID()}::uuid, ${sql.json({ i })}, ${crypto.randomUUID()})`);
  } finally {
    await sql.end({ timeout: 5 });
    await db.drop();
  }
}
