/**
 * pg-boss 12: its publish/subscribe fan-out (one queue per handler, each subscribed to
 * the event), tuned as its docs say for throughput and latency: queues created with
 * `notify: true` and the instance's `useListenNotify` (a job's creation wakes the workers),
 * `burstWhenBatchFull` (fetch again at once while batches come back full), batch fetch and
 * complete. Workers in a separate process. Each handler run is a job row left `completed`.
 */
import { PgBoss } from "pg-boss";
import { startWorker } from "../support/child.ts";
import { HANDLERS_PER_EVENT, type BenchSystem } from "./system.ts";

export const PG_BOSS_EVENT = "bench.event";
export const PG_BOSS_QUEUES = ["bench_a", "bench_b", "bench_c", "bench_d"];
/** Jobs per fetch, and fetch loops per queue (work()'s localConcurrency). */
export const PG_BOSS_BATCH = Number(process.env.BENCH_PG_BOSS_BATCH ?? 500);
export const PG_BOSS_WORKERS_PER_QUEUE = 2;
/** The base poll (its minimum); with NOTIFY active it polls every notifyPollingIntervalSeconds (default 30) as a backstop. */
export const PG_BOSS_POLL_SECONDS = 0.5;
/** Options of every PgBoss instance of the bench: no cron, no maintenance loop during a measurement. */
export const PG_BOSS_OPTIONS = { supervise: false, schedule: false, useListenNotify: true } as const;

export const pgBoss: BenchSystem = {
  name: "pg-boss",
  tuning: `pg-boss 12.38: publish() to 4 queues subscribed to the event, created with notify: true; worker instance useListenNotify: true, supervise/schedule off, pool max 20; work() with batchSize ${PG_BOSS_BATCH} (the handler gets the batch, pg-boss completes it with one call), localConcurrency ${PG_BOSS_WORKERS_PER_QUEUE} per queue, burstWhenBatchFull: true, pollingIntervalSeconds ${PG_BOSS_POLL_SECONDS}; batched enqueue: insert() of each queue's jobs, 4 calls (pg-boss 12's insert takes one queue)`,

  async setup(server) {
    const db = await server.emptyDatabase();
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false });
    boss.on("error", () => {});
    await boss.start();
    for (const queue of PG_BOSS_QUEUES) {
      await boss.createQueue(queue, { notify: true });
      await boss.subscribe(PG_BOSS_EVENT, queue);
    }
    await boss.stop({ graceful: false });
    return db;
  },

  async producer(url, connections) {
    const boss = new PgBoss({ connectionString: url, max: connections, ...PG_BOSS_OPTIONS, useListenNotify: false, migrate: false, connectionTimeoutMillis: 120_000 });
    let stopping = false;
    // Its pool can still hold a connection when the bench drops the database after stop():
    // that termination is expected; anything else is worth a line (not the whole client).
    boss.on("error", (error) => stopping || console.error("pg-boss producer:", error.message));
    await boss.start();
    return {
      emitOne: async (i) => void (await boss.publish(PG_BOSS_EVENT, { i, t: Date.now() })),
      emitBatch: async (from, count) => {
        const jobs = Array.from({ length: count }, (_, k) => ({ data: { i: from + k, t: Date.now() } }));
        await Promise.all(PG_BOSS_QUEUES.map((name) => boss.insert(name, jobs)));
      },
      close: () => {
        stopping = true;
        return boss.stop({ graceful: false });
      },
    };
  },

  startWorkers: startPgBossWorkers(false),

  async drained({ sql }) {
    const [row] = await sql`select not exists (select 1 from pgboss.job where state < 'completed') as done`;
    return row.done;
  },

  async firstStartedAt({ sql }) {
    const [row] = await sql`select extract(epoch from min(started_on)) * 1000 as at from pgboss.job`;
    return Number(row.at);
  },

  async lastDoneAt({ sql }) {
    const [row] = await sql`select extract(epoch from max(completed_on)) * 1000 as at from pgboss.job`;
    return Number(row.at);
  },

  async verifiedRuns({ sql }) {
    const [row] = await sql<{ completed: number; other: number; retried: number }[]>`
      select count(*) filter (where state = 'completed')::int as completed,
             count(*) filter (where state <> 'completed')::int as other,
             count(*) filter (where retry_count > 0)::int as retried
      from pgboss.job`;
    if (row.other || row.retried) throw new Error(`pg-boss: unfinished or retried jobs: ${JSON.stringify(row)}`);
    return row.completed;
  },

  async latencies({ sql }, sinceMs) {
    const rows = await sql<{ ms: number; jobs: number }[]>`
      select extract(epoch from max(completed_on)) * 1000 - min((data ->> 't')::float8) as ms, count(*)::int as jobs
      from pgboss.job group by data ->> 'i' having min((data ->> 't')::float8) >= ${sinceMs}`;
    if (rows.some((r) => r.jobs !== HANDLERS_PER_EVENT)) throw new Error("pg-boss: an event without its four jobs");
    return rows.map((r) => Number(r.ms));
  },
};

function startPgBossWorkers(traced: boolean): BenchSystem["startWorkers"] {
  return async (url, processes) => {
    const env = { DATABASE_URL: url, ...(traced ? { BENCH_OTEL: "1" } : {}) };
    return await Promise.all(Array.from({ length: processes }, () => startWorker("bench/workers/pg-boss.ts", env)));
  };
}

/**
 * pg-boss with the same OpenTelemetry SDK as feyxa-traced (every trace recorded) in its worker
 * processes: the peer's own cost of tracing, beside issue 16's bound. pg-boss 12 traces a
 * fetched batch as one `process` span linked to its jobs' sends (a job only when the batch
 * is of one), and each batch's completion as one `complete` span: two spans per 500 jobs
 * here, where Feyxa makes five per event (its attempt and four handler runs).
 */
export const pgBossTraced: BenchSystem = {
  ...pgBoss,
  name: "pg-boss-traced",
  drainOnly: true,
  tuning: "as pg-boss, with the OpenTelemetry SDK of feyxa-traced registered in each worker process (bench/otel-sdk.ts: every trace recorded); pg-boss 12's own tracing, on by default, takes it up",
  startWorkers: startPgBossWorkers(true),
};
