/**
 * Drain: a backlog of events is there (emitted in one transaction, then ANALYZEd, as a
 * backlog left by an outage would be), worker processes start and drain it; handler runs
 * per second from the first run's start to the last run's record (so process start-up is
 * not counted). Also the workers' peak RSS, a check that no run happened twice, and what
 * the drain cost the server (WAL bytes, HOT share of updates: support/pg-stats.ts).
 */
import type { BenchSystem } from "../systems/system.ts";
import { HANDLERS_PER_EVENT } from "../systems/system.ts";
import { stopAll } from "../support/child.ts";
import { BENCH_APP, type BenchServer } from "../support/server.ts";
import { drainCost, printStatementStats, resetStatementStats, snapshot, type DrainCost } from "../support/pg-stats.ts";
import { waitUntil } from "../support/timing.ts";

export interface DrainResult {
  events: number;
  processes: number;
  handlerRuns: number;
  seconds: number;
  runsPerSecond: number;
  /** The largest peak RSS among the worker processes, MB. */
  peakRssMb: number;
  walBytesPerEvent: number;
  cost: DrainCost;
}

const DRAIN_TIMEOUT_MS = 180_000;

export async function drain(system: BenchSystem, server: BenchServer, events: number, processes = 1): Promise<DrainResult> {
  const db = await system.setup(server);
  const producer = await system.producer(db.url, 1);
  await producer.emitBatch(0, events);
  await producer.close();
  await db.sql`analyze`;
  await resetStatementStats(db);
  const before = await snapshot(db.sql);
  const workers = await system.startWorkers(db.url, processes);
  let stopAlongside = system.alongside?.(db);
  try {
    const waits = new Map<string, number>();
    await waitUntil(async () => {
      if (process.env.BENCH_PG_STATS) await sampleWaits(db.sql, waits);
      return await system.drained(db);
    }, DRAIN_TIMEOUT_MS, process.env.BENCH_PG_STATS ? 5 : 25);
    // Stopped before the figures are read; the finally stops it only when this was not reached.
    await stopAlongside?.();
    stopAlongside = undefined;
    if (waits.size) console.error(`bench  ${system.name} drain: what the system's active backends were doing (samples): ${[...waits].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
    const polledAt = Date.now();
    const [{ lsn: walAfter }] = await db.sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
    const peakRssMb = Math.max(...workers.map((w) => w.peakRssMb()));
    const doneAt = (await system.lastDoneAt(db)) ?? polledAt;
    const runs = await system.verifiedRuns(db);
    const handlerRuns = runs >= 0 ? runs : events * HANDLERS_PER_EVENT;
    if (handlerRuns !== events * HANDLERS_PER_EVENT) throw new Error(`${system.name}: ${handlerRuns} runs for ${events} events`);
    const startedAt = await system.firstStartedAt(db, workers);
    await stopAll(workers);
    const cost = await drainCost(db.sql, before, walAfter, await snapshotAfterExit(db.sql));
    await printStatementStats(db, `${system.name} drain (${server.description})`, cost, events);
    const seconds = Math.max(doneAt - startedAt, 1) / 1000;
    return { events, processes, handlerRuns, seconds, runsPerSecond: handlerRuns / seconds, peakRssMb, walBytesPerEvent: cost.walBytes / events, cost };
  } finally {
    await stopAlongside?.();
    await stopAll(workers);
    await db.drop();
  }
}

/** BENCH_PG_STATS=1: one sample of what the system's active backends wait on ("CPU" when on none). */
async function sampleWaits(sql: BenchDatabaseSql, into: Map<string, number>): Promise<void> {
  const rows = await sql<{ w: string }[]>`
    select coalesce(wait_event_type || ':' || wait_event, 'CPU') as w from pg_stat_activity
    where datname = current_database() and application_name <> ${BENCH_APP} and state = 'active'`;
  for (const { w } of rows) into.set(w, (into.get(w) ?? 0) + 1);
}

/** A worker's backend flushes its table counters when it exits, a moment after its client closed. */
async function snapshotAfterExit(sql: BenchDatabaseSql) {
  await waitUntil(async () => {
    const [{ n }] = await sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name <> ${BENCH_APP}`;
    return n === 0;
  }, 10_000, 50).catch(() => {});
  return await snapshot(sql);
}
type BenchDatabaseSql = Parameters<typeof snapshot>[0];
