/**
 * Latency: a steady rate of single emits (ticks of 10 ms, each firing its share) while one
 * worker process runs; per event, the time from its emit to its fourth handler run recorded.
 */
import type { BenchSystem } from "../systems/system.ts";
import { stopAll } from "../support/child.ts";
import type { BenchServer } from "../support/server.ts";
import { percentile, sleep, waitUntil } from "../support/timing.ts";

export interface LatencyResult {
  eventsPerSecond: number;
  seconds: number;
  events: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const TICK_MS = 10;
const SETTLE_TIMEOUT_MS = 60_000;

export async function latency(system: BenchSystem, server: BenchServer, eventsPerSecond: number, seconds: number): Promise<LatencyResult> {
  const db = await system.setup(server);
  await system.prepareLatencyProbe?.(db);
  const workers = await system.startWorkers(db.url, 1);
  const producer = await system.producer(db.url, 16);
  try {
    const perTick = (eventsPerSecond * TICK_MS) / 1000;
    const ticks = Math.round((seconds * 1000) / TICK_MS);
    const emits: Promise<void>[] = [];
    const startedAt = performance.now();
    for (let tick = 0, i = 0; tick < ticks; tick++) {
      const wait = startedAt + tick * TICK_MS - performance.now();
      if (wait > 0) await sleep(wait);
      for (let k = 0; k < perTick; k++) emits.push(producer.emitOne(i++));
    }
    await Promise.all(emits);
    await waitUntil(() => system.drained(db), SETTLE_TIMEOUT_MS, 50);
    const ms = await system.latencies(db);
    if (ms.length !== emits.length) throw new Error(`${system.name}: ${ms.length} of ${emits.length} events measured`);
    return {
      eventsPerSecond, seconds, events: ms.length,
      p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), max: percentile(ms, 100),
    };
  } finally {
    await producer.close();
    await stopAll(workers);
    await db.drop();
  }
}
