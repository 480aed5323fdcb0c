/**
 * Latency: a steady rate of single emits (ticks of 10 ms, each firing its share) while one
 * worker process runs; per event, the time from its emit to its fourth handler run recorded.
 * A producer that falls more than a second of events behind skips ticks (emittedPerSecond).
 * A warm-up at the same rate comes first (BENCH_WARMUP_SECONDS, 2), drained before the
 * measured run starts and left out of it: without it, the producer's pool opening its 16
 * connections and the first plans made the first two seconds' p99 over a second, which was
 * the whole run's p99.
 */
import type { BenchSystem, Producer } from "../systems/system.ts";
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
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);

/** Emits at `eventsPerSecond` for `seconds` from event number `from`; the number emitted and the rate sustained. */
async function emitAtRate(producer: Producer, from: number, eventsPerSecond: number, seconds: number) {
  const perTick = (eventsPerSecond * TICK_MS) / 1000;
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  const emits: Promise<void>[] = [];
  let failed: unknown;
  let settled = 0;
  const startedAt = performance.now();
  for (let tick = 0, i = from; tick < ticks; tick++) {
    const wait = startedAt + tick * TICK_MS - performance.now();
    if (wait > 0) await sleep(wait);
    // A producer more than a second of events behind skips this tick: the run stays bounded,
    // and emittedPerSecond says the rate was not met.
    if (i - from - settled > eventsPerSecond) continue;
    for (let k = 0; k < perTick; k++) emits.push(producer.emitOne(i++).then(() => void settled++, (error) => void (failed ??= error)));
  }
  await Promise.all(emits);
  if (failed) throw failed;
  return { emitted: emits.length, emittedPerSecond: emits.length / ((performance.now() - startedAt) / 1000) };
}

export async function latency(system: BenchSystem, server: BenchServer, eventsPerSecond: number, seconds: number): Promise<LatencyResult> {
  const db = await system.setup(server);
  await system.prepareLatencyProbe?.(db);
  const workers = await system.startWorkers(db.url, 1, "latency");
  const producer = await system.producer(db.url, 16);
  try {
    const warmup = WARMUP_SECONDS > 0 ? await emitAtRate(producer, 0, eventsPerSecond, WARMUP_SECONDS) : { emitted: 0 };
    await waitUntil(() => system.drained(db), SETTLE_TIMEOUT_MS, 50);
    const sinceMs = Date.now();
    const { emitted, emittedPerSecond } = await emitAtRate(producer, warmup.emitted, eventsPerSecond, seconds);
    await waitUntil(() => system.drained(db), SETTLE_TIMEOUT_MS, 50);
    const ms = await system.latencies(db, sinceMs);
    if (ms.length !== emitted) throw new Error(`${system.name}: ${ms.length} of ${emitted} events measured`);
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

/**
 * The highest rate of `ladder` at which p99 stays under `p99BoundMs` with the producer keeping
 * up (95 % of the rate or more), starting from a run already made at `measured.eventsPerSecond`:
 * climbing the higher rates while they hold, or, when it missed, going down the lower ones until
 * one holds. Undefined when none does. Each step is a latency run of `seconds`.
 */
export async function highestRateUnder(
  system: BenchSystem, server: BenchServer, measured: LatencyResult, ladder: number[], seconds: number, p99BoundMs: number,
  log: (m: string) => void,
): Promise<number | undefined> {
  const holds = (l: LatencyResult) => l.p99 < p99BoundMs && l.emittedPerSecond >= 0.95 * l.eventsPerSecond;
  const step = async (rate: number) => {
    const l = await latency(system, server, rate, seconds);
    log(`  ${system.name} at ${rate}/s: p99 ${l.p99.toFixed(1)} ms, producer ${Math.round(l.emittedPerSecond)}/s: ${holds(l) ? "holds" : "misses"}`);
    return holds(l);
  };
  const start = measured.eventsPerSecond;
  if (holds(measured)) {
    let best = start;
    for (const rate of ladder.filter((r) => r > start).sort((a, b) => a - b)) {
      if (!(await step(rate))) break;
      best = rate;
    }
    return best;
  }
  for (const rate of ladder.filter((r) => r < start).sort((a, b) => b - a)) if (await step(rate)) return rate;
  return undefined;
}
