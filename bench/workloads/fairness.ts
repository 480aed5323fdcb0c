/**
 * Fairness (issue 14): one dispatcher process (as in the drain) runs while tenant A floods
 * the bus, emitting `floodEvents` events as fast as it can (emit_events, BENCH_FLOOD_PER_CALL
 * (1,000) a call, back to back on one connection: faster than one dispatcher drains them), and tenant B emits 20 single events spread evenly over A's emitting (the
 * k-th when A has emitted k/20 of its flood). B's emit-to-done latency: events_log.processed_at
 * (the fourth handler recorded) minus the producer's Date.now() in the payload. Modes:
 * "idle" (B alone, its 20 emits spread over `idleSpanMs`), "off" (flood, fairness off, the
 * default) and "on" (flood, fairness on, cap BENCH_FAIR_MAX_IN_FLIGHT or none).
 */
import postgres from "postgres";
import { Bus, configureTenantFairness, type NewEvent } from "../../src/bus/index.ts";
import { BENCH_EVENT } from "../noop-handlers.ts";
import { feyxa } from "../systems/feyxa.ts";
import { stopAll } from "../support/child.ts";
import type { BenchServer } from "../support/server.ts";
import { sleep, waitUntil } from "../support/timing.ts";

export type FairnessMode = "idle" | "off" | "on";

export interface FairnessResult {
  mode: FairnessMode;
  /** B's emit-to-done latencies, ms, in emit order. */
  latencies: number[];
  /** How long A's flood took to emit, ms (0 when idle). */
  floodEmitMs: number;
  /** From the first emit until the bus was empty, ms. */
  totalMs: number;
}

export const B_EVENTS = 20;
const PER_CALL = Number(process.env.BENCH_FLOOD_PER_CALL ?? 1_000);
const TIMEOUT_MS = 300_000; // with a cap (BENCH_FAIR_MAX_IN_FLIGHT), A's flood took up to 140 s to drain
const MAX_IN_FLIGHT = process.env.BENCH_FAIR_MAX_IN_FLIGHT ? Number(process.env.BENCH_FAIR_MAX_IN_FLIGHT) : null;
export const fairnessTuning = `one dispatcher (as feyxa's drain); A: emit_events of ${PER_CALL} per call, back to back; B: ${B_EVENTS} single emits; fairness on: configure_tenant_fairness(true, ${MAX_IN_FLIGHT ?? "null"})`;

export async function fairness(server: BenchServer, mode: FairnessMode, floodEvents: number, idleSpanMs: number): Promise<FairnessResult> {
  const db = await feyxa.setup(server);
  if (mode === "on") await configureTenantFairness(db.sql, { enabled: true, maxInFlight: MAX_IN_FLIGHT });
  await db.sql`analyze`; // as systems/feyxa-flow.ts: no JIT-compiled single emit on a never-analyzed database
  const [tenantA, tenantB] = [crypto.randomUUID(), crypto.randomUUID()];
  const event = (tenant: string, i: number): NewEvent => ({
    event_type: BENCH_EVENT, aggregate_type: "bench", aggregate_id: crypto.randomUUID(), tenant_id: tenant, payload: { i, t: Date.now() },
  });
  const sqlA = postgres(db.url, { max: 1, onnotice: () => {} });
  const sqlB = postgres(db.url, { max: 1, onnotice: () => {} });
  const [busA, busB] = [new Bus({ sql: sqlA, handlers: [] }), new Bus({ sql: sqlB, handlers: [] })];
  const workers = await feyxa.startWorkers(db.url, 1);
  try {
    // One event through first, so that no mode's figures include the dispatcher's first claim (statements prepared, LISTEN woken).
    await busB.emit(event(crypto.randomUUID(), -1));
    await waitUntil(() => feyxa.drained(db), TIMEOUT_MS, 10);
    const started = performance.now();
    const bEmits: Promise<unknown>[] = [];
    let floodEmitMs = 0;
    if (mode === "idle") {
      for (let k = 0; k < B_EVENTS; k++) {
        bEmits.push(busB.emit(event(tenantB, k)));
        await sleep(idleSpanMs / B_EVENTS);
      }
    } else {
      const every = floodEvents / B_EVENTS;
      let nextB = 0;
      for (let at = 0; at < floodEvents; at += PER_CALL) {
        while (nextB < B_EVENTS && at >= nextB * every) bEmits.push(busB.emit(event(tenantB, nextB++)));
        await busA.emitMany(Array.from({ length: Math.min(PER_CALL, floodEvents - at) }, (_, k) => event(tenantA, at + k)));
      }
      while (nextB < B_EVENTS) bEmits.push(busB.emit(event(tenantB, nextB++)));
      floodEmitMs = performance.now() - started;
    }
    await Promise.all(bEmits);
    await waitUntil(() => feyxa.drained(db), TIMEOUT_MS, 25);
    const totalMs = performance.now() - started;
    const rows = await db.sql<{ ms: number }[]>`
      select extract(epoch from processed_at) * 1000 - (payload ->> 't')::float8 as ms
      from feyxa.events_log where tenant_id = ${tenantB} and status = 'completed' order by (payload ->> 'i')::int`;
    if (rows.length !== B_EVENTS) throw new Error(`fairness (${mode}): ${rows.length} of B's ${B_EVENTS} events completed`);
    return { mode, latencies: rows.map((r) => Number(r.ms)), floodEmitMs, totalMs };
  } finally {
    await stopAll(workers);
    await Promise.all([sqlA.end({ timeout: 5 }), sqlB.end({ timeout: 5 })]);
    await db.drop();
  }
}
