/**
 * Latency: a steady rate of single emits (ticks of 10 ms, each firing its share) while one
 * worker process runs; per event, the time from its emit to its fourth handler run recorded.
 * A producer that falls more than a second of events behind skips ticks (emittedPerSecond).
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
  /** The rate the producer actually sustained (events / time until the last emit returned): below eventsPerSecond, the emits queued in the producer and the percentiles include that wait. */
  emittedPerSecond: number;
}

const TICK_MS = 10;
const SETTLE_TIMEOUT_MS = 60_000;

export async function latency(system: BenchSystem, server: BenchServer, eventsPerSecond: number, seconds: number): Promise<LatencyResult> {
  const db = await system.setup(server);
  await system.prepareLatencyProbe?.(db);
  const workers = await system.startWorkers(db.url, 1, "latency");
  const producer = await system.producer(db.url, 16);
  try {
    const perTick = (eventsPerSecond * TICK_MS) / 1000;
    const ticks = Math.round((seconds * 1000) / TICK_MS);
    const emits: Promise<void>[] = [];
    let failed: unknown;
    let settled = 0;
    const startedAt = performance.now();
    for (let tick = 0, i = 0; tick < ticks; tick++) {
      const wait = startedAt + tick * TICK_MS - performance.now();
      if (wait > 0) await sleep(wait);
      // A producer more than a second of events behind skips this tick: the run stays bounded,
      // and emittedPerSecond says the rate was not met.
      if (i - settled > eventsPerSecond) continue;
      for (let k = 0; k < perTick; k++) emits.push(producer.emitOne(i++).then(() => void settled++, (error) => void (failed ??= error)));
    }
    await Promise.all(emits);
    const emittedPerSecond = emits.length / ((performance.now() - startedAt) / 1000);
    if (failed) throw failed;
    await waitUntil(() => system.drained(db), SETTLE_TIMEOUT_MS, 50);
    const ms = await system.latencies(db);
    if (ms.length !== emits.length) throw new Error(`${system.name}: ${ms.length} of ${emits.length} events measured`);
    return {
      eventsPerSecond, seconds, events: ms.length,
      p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), max: percentile(ms, 100), emittedPerSecond,
    };
  } finally {
    await producer.close();
    await stopAll(workers);
    await db.drop();
  }
}
