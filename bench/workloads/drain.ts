/**
 * Drain: a backlog of events is there (emitted in one transaction, then ANALYZEd, as a
 * backlog left by an outage would be), worker processes start and drain it; handler runs
 * per second from the first run's start to the last run's record (so process start-up is
 * not counted). Also the workers' peak RSS, and a check that no run happened twice.
 */
import type { BenchSystem } from "../systems/system.ts";
import { HANDLERS_PER_EVENT } from "../systems/system.ts";
import { stopAll } from "../support/child.ts";
import type { BenchServer } from "../support/server.ts";
import { printStatementStats, resetStatementStats } from "../support/pg-stats.ts";
import { waitUntil } from "../support/timing.ts";

export interface DrainResult {
  events: number;
  processes: number;
  handlerRuns: number;
  seconds: number;
  runsPerSecond: number;
  /** The largest peak RSS among the worker processes, MB. */
  peakRssMb: number;
}

const DRAIN_TIMEOUT_MS = 120_000;

export async function drain(system: BenchSystem, server: BenchServer, events: number, processes = 1): Promise<DrainResult> {
  const db = await system.setup(server);
  const producer = await system.producer(db.url, 1);
  await producer.emitBatch(0, events);
  await producer.close();
  await db.sql`analyze`;
  await resetStatementStats(db.sql);
  const workers = await system.startWorkers(db.url, processes);
  try {
    await waitUntil(() => system.drained(db), DRAIN_TIMEOUT_MS, 25);
    await printStatementStats(db.sql, `${system.name} drain`);
    const polledAt = Date.now();
    const peakRssMb = Math.max(...workers.map((w) => w.peakRssMb()));
    const doneAt = (await system.lastDoneAt(db)) ?? polledAt;
    const runs = await system.verifiedRuns(db);
    const handlerRuns = runs >= 0 ? runs : events * HANDLERS_PER_EVENT;
    if (handlerRuns !== events * HANDLERS_PER_EVENT) throw new Error(`${system.name}: ${handlerRuns} runs for ${events} events`);
    const startedAt = await system.firstStartedAt(db, workers);
    const seconds = Math.max(doneAt - startedAt, 1) / 1000;
    return { events, processes, handlerRuns, seconds, runsPerSecond: handlerRuns / seconds, peakRssMb };
  } finally {
    await stopAll(workers);
    await db.drop();
  }
}
