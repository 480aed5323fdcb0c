/**
 * pg-boss 10: its publish/subscribe fan-out (one queue per handler, each subscribed to
 * the event), workers in a separate process fetching and completing in batches.
 * Each handler run is a job row left in state `completed` (kept 14 days by default).
 */
import PgBoss from "pg-boss";
import { startWorker } from "../support/child.ts";
import { HANDLERS_PER_EVENT, type BenchSystem } from "./system.ts";

export const PG_BOSS_EVENT = "bench.event";
export const PG_BOSS_QUEUES = ["bench_a", "bench_b", "bench_c", "bench_d"];
/** Jobs per fetch, and workers per queue (pg-boss 10 runs one fetch loop per work() call). */
export const PG_BOSS_BATCH = 500;
export const PG_BOSS_WORKERS_PER_QUEUE = 2;
export const PG_BOSS_POLL_SECONDS = 0.5;

export const pgBoss: BenchSystem = {
  name: "pg-boss",
  tuning: `pg-boss 10.4: publish() to 4 subscribed queues; work() with batchSize ${PG_BOSS_BATCH} (the handler gets the batch, pg-boss completes it with one complete(ids) call), ${PG_BOSS_WORKERS_PER_QUEUE} workers per queue, pollingIntervalSeconds ${PG_BOSS_POLL_SECONDS} (its minimum; v10 has no LISTEN), pool max 20; batch enqueue: insert() of all 4 queues' jobs`,

  async setup(server) {
    const db = await server.emptyDatabase();
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false });
    boss.on("error", () => {});
    await boss.start();
    for (const queue of PG_BOSS_QUEUES) {
      await boss.createQueue(queue);
      await boss.subscribe(PG_BOSS_EVENT, queue);
    }
    await boss.stop({ graceful: false, wait: true });
    return db;
  },

  async producer(url, connections) {
    const boss = new PgBoss({ connectionString: url, max: connections, supervise: false, schedule: false, migrate: false });
    let stopping = false;
    // Its pool can still hold a connection when the bench drops the database after stop():
    // that termination is expected; anything else is worth a line (not the whole client).
    boss.on("error", (error) => stopping || console.error("pg-boss producer:", error.message));
    await boss.start();
    return {
      emitOne: async (i) => void (await boss.publish(PG_BOSS_EVENT, { i, t: Date.now() })),
      emitBatch: async (from, count) => {
        const jobs = [];
        for (let i = from; i < from + count; i++) for (const name of PG_BOSS_QUEUES) jobs.push({ name, data: { i } });
        await boss.insert(jobs);
      },
      close: () => {
        stopping = true;
        return boss.stop({ graceful: false, wait: true });
      },
    };
  },

  async startWorkers(url, processes) {
    return await Promise.all(Array.from({ length: processes }, () => startWorker("bench/workers/pg-boss.ts", { DATABASE_URL: url })));
  },

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

  async latencies({ sql }) {
    const rows = await sql<{ ms: number; jobs: number }[]>`
      select extract(epoch from max(completed_on)) * 1000 - min((data ->> 't')::float8) as ms, count(*)::int as jobs
      from pgboss.job group by data ->> 'i'`;
    if (rows.some((r) => r.jobs !== HANDLERS_PER_EVENT)) throw new Error("pg-boss: an event without its four jobs");
    return rows.map((r) => Number(r.ms));
  },
};
