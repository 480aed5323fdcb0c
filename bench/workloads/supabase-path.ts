/**
 * The Supabase path (issue 17): the bus with no dispatcher process at all, as a hosted
 * project runs it, against pgmq consumed the way Supabase's docs show. Each system gets a
 * hosted project in miniature of its own (tests/e2e/hosted-project.ts: Debian's PostgreSQL
 * 15 with the real pg_net and pg_cron, the functions served by Deno from their entrypoints
 * behind a `/functions/v1/<name>` gateway):
 *
 * - feyxa-edge: every emit's transaction queues pg_net's coalesced wake-up of process-event,
 *   which drains what is due (src/bus/functions/drain.ts) and asks for another wake-up when it
 *   stops with events left; pg_cron's retry-failed-events sweeps every minute. The bus's
 *   functions run the bench's four no-op handlers (bench/functions/).
 * - pgmq-edge: pgmq's four queues (bench/systems/pgmq.ts), and a pg_cron job every second,
 *   pg_cron's shortest schedule, calling the consumer function through pg_net
 *   (bench/functions/pgmq-consumer).
 *
 * Per system: a burst (a backlog of BENCH_SUPABASE_BURST events committed in one
 * transaction; events/s from its commit to its last handler run), then the latency run of
 * workloads/latency.ts at BENCH_SUPABASE_RATE for BENCH_SUPABASE_SECONDS.
 */
import postgres from "postgres";
import { DRAIN_DEFAULTS } from "../../src/bus/functions/index.ts";
import { startHostedProject, whyNotRunnable } from "../../tests/e2e/hosted-project.ts";
import type { WorkerProcess } from "../support/child.ts";
import type { BenchDatabase, BenchServer } from "../support/server.ts";
import { waitUntil } from "../support/timing.ts";
import { feyxa } from "../systems/feyxa.ts";
import { PGMQ_QUEUES, pgmq, whyNoPgmq } from "../systems/pgmq.ts";
import { type BenchSystem, HANDLERS_PER_EVENT } from "../systems/system.ts";
import { latency, type LatencyResult } from "./latency.ts";

export interface SupabasePathResult {
  burst: { events: number; seconds: number; eventsPerSecond: number };
  latency: LatencyResult;
}

const PGMQ_EDGE_BATCH = 100;
/** How long one call of the pgmq consumer reads, at most (process-event claims for 1 s: DRAIN_DEFAULTS.budgetMs). */
const PGMQ_EDGE_BUDGET_MS = 5_000;
const CRON_JOB = "bench-pgmq-consumer";
const DRAIN_TIMEOUT_MS = 300_000;

interface EdgeSystem {
  system: BenchSystem;
  /** The functions its project serves, by name: their entrypoints. */
  functions: Record<string, string>;
  /** Project secrets for its functions. */
  secrets?: Record<string, string>;
}

/**
 * BENCH_FEYXA_EDGE_MAX_EVENTS: a cap on process-event's share per invocation
 * (FEYXA_DRAIN_MAX_EVENTS), as an operator may set one; unset, an invocation claims for a
 * second (src/bus/functions/drain.ts). Its handler runs are capped at six an event, more than
 * the bench's four, so that the event cap is the one that binds.
 */
const edgeMaxEvents = process.env.BENCH_FEYXA_EDGE_MAX_EVENTS;
const feyxaSecrets = edgeMaxEvents ? { FEYXA_DRAIN_MAX_EVENTS: edgeMaxEvents, FEYXA_DRAIN_MAX_HANDLER_RUNS: String(Number(edgeMaxEvents) * 6) } : undefined;

const edgeSystems: EdgeSystem[] = [
  {
    system: {
      ...feyxa,
      name: "feyxa-edge",
      tuning: `no dispatcher process: process-event (Deno) woken by pg_net at each emit's commit (coalesced: none while one waits in pg_net's queue), draining what is due (for ${DRAIN_DEFAULTS.budgetMs / 1000} s of claiming${edgeMaxEvents ? ` or FEYXA_DRAIN_MAX_EVENTS ${edgeMaxEvents}` : ""}, then it asks for another wake-up); retry-failed-events on pg_cron every minute; the bench's 4 no-op handlers`,
      startWorkers: async () => [],
    },
    functions: { "process-event": "bench/functions/process-event/index.ts", "retry-failed-events": "bench/functions/retry-failed-events/index.ts" },
    secrets: feyxaSecrets,
  },
  {
    system: {
      ...pgmq,
      name: "pgmq-edge",
      tuning: `pgmq 1.5.1, 4 queues as the pgmq row; consumer: an Edge Function (Deno) called by a pg_cron job every second through pg_net, as Supabase's guide "Consuming Supabase Queue Messages with Edge Functions" does, tuned: per call, pgmq.read of ${PGMQ_EDGE_BATCH} from each queue then pgmq.archive of the batch, until empty or ${PGMQ_EDGE_BUDGET_MS / 1000} s (the guide: 5 messages through PostgREST)`,
      startWorkers: async (url) => [await cronConsumer(url)],
    },
    functions: { "pgmq-consumer": "bench/functions/pgmq-consumer/index.ts" },
  },
];

export const supabasePathTuning = Object.fromEntries(edgeSystems.map(({ system }) => [system.name, system.tuning]));

/** Why the Supabase path cannot run here, or undefined. */
export function whyNoSupabasePath(): string | undefined {
  const why = whyNotRunnable() ?? whyNoPgmq();
  return why && `Supabase path skipped: ${why}`;
}

/**
 * The pg_cron job that calls the pgmq consumer every second through pg_net:
 * feyxa.call_edge_function, the project's own call of a function from SQL (the URL from
 * event_bus_settings, the key from Vault). Stopping it unschedules the job.
 */
async function cronConsumer(url: string): Promise<WorkerProcess> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const body = { queues: PGMQ_QUEUES, batch: PGMQ_EDGE_BATCH, budget_ms: PGMQ_EDGE_BUDGET_MS };
  await sql`select cron.schedule(${CRON_JOB}, '1 seconds', format('select feyxa.call_edge_function(%L, %L::jsonb)', 'pgmq-consumer', ${sql.json(body)}::text))`;
  return {
    pid: 0,
    output: () => "",
    peakRssMb: () => NaN,
    async stop() {
      await sql`select cron.unschedule(${CRON_JOB})`;
      await sql.end({ timeout: 5 });
    },
  };
}

/** The burst: `events` committed at once, then the time from that commit to the last handler run. */
async function burst(system: BenchSystem, db: BenchDatabase, events: number): Promise<SupabasePathResult["burst"]> {
  const producer = await system.producer(db.url, 1);
  const workers = await system.startWorkers(db.url, 1);
  try {
    await producer.emitBatch(0, events);
    const committedAt = Date.now();
    await waitUntil(() => system.drained(db), DRAIN_TIMEOUT_MS, 50);
    const seconds = ((await system.lastDoneAt(db)) ?? Date.now()) / 1000 - committedAt / 1000;
    // Every handler ran once per event, none twice, none failed (each system's own check).
    const runs = await system.verifiedRuns(db);
    if (runs !== events * HANDLERS_PER_EVENT) throw new Error(`${system.name}: ${runs} handler runs for a burst of ${events} events`);
    return { events, seconds, eventsPerSecond: events / seconds };
  } finally {
    await producer.close();
    for (const worker of workers) await worker.stop();
  }
}

/** One system on a hosted project of its own: the burst, then the latency run. */
async function onHostedProject({ system, functions, secrets }: EdgeSystem, settings: { burst: number; rate: number; seconds: number }): Promise<SupabasePathResult> {
  const project = await startHostedProject(Object.keys(functions), { entrypoints: functions, secrets });
  const pools: postgres.Sql[] = [];
  // The project has one database (pg_net and pg_cron work in it): the system's setup runs once, and its "fresh databases" are that one.
  const database = async (): Promise<BenchDatabase> => {
    const sql = postgres(project.url, { max: 4, onnotice: () => {} });
    pools.push(sql);
    // superuserUrl serves BENCH_PG_STATS, which this path does not read.
    return { url: project.url, superuserUrl: project.url, sql, drop: async () => {} };
  };
  let prepared: Promise<BenchDatabase> | undefined;
  const server: BenchServer = {
    tier: "15", description: "a hosted project in miniature", role: "postgres", adminUrl: project.url,
    feyxaDatabase: database, emptyDatabase: database, cloneOf: database, stop: async () => {},
  };
  const once: BenchSystem = { ...system, setup: (s) => (prepared ??= system.setup(s)) };
  try {
    const db = await once.setup(server);
    const b = await burst(once, db, settings.burst);
    return { burst: b, latency: await latency(once, server, settings.rate, settings.seconds) };
  } finally {
    for (const sql of pools) await sql.end({ timeout: 5 });
    await project.stop();
  }
}

/** Both systems' Supabase path, one after the other. */
export async function supabasePath(settings: { burst: number; rate: number; seconds: number }, log: (message: string) => void): Promise<Record<string, SupabasePathResult>> {
  const results: Record<string, SupabasePathResult> = {};
  for (const edge of edgeSystems) {
    log(`${edge.system.name}: a hosted project in miniature (PostgreSQL 15, pg_net, pg_cron, Deno); burst of ${settings.burst}, then ${settings.rate} events/s for ${settings.seconds} s`);
    const result = await onHostedProject(edge, settings);
    log(`  burst ${Math.round(result.burst.eventsPerSecond)} events/s; p50 ${result.latency.p50.toFixed(0)} ms, p99 ${result.latency.p99.toFixed(0)} ms`);
    results[edge.system.name] = result;
  }
  return results;
}
