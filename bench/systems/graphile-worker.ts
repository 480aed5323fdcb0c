/**
 * graphile-worker 0.18: one job per handler (four jobs per event, added in one addJobs
 * call), a runner in a separate process with the batching options of its performance
 * page. A handler run is done when its job row is deleted (graphile-worker keeps no
 * completed jobs), so the latency run adds a probe: a trigger noting each deletion's time.
 */
import { Logger, makeWorkerUtils, runMigrations, type AddJobsJobSpec } from "graphile-worker";
import pg from "pg";
import { startWorker } from "../support/child.ts";
import { HANDLERS_PER_EVENT, type BenchSystem } from "./system.ts";

export const GRAPHILE_TASKS = ["bench_a", "bench_b", "bench_c", "bench_d"];
export const GRAPHILE_CONCURRENCY = 24;
export const GRAPHILE_LOCAL_QUEUE = 500;
/** graphile-worker logs every job at info level by default; ours logs nothing per event, so neither does it here. */
export const silentLogger = new Logger(() => () => {});

const jobsOf = (i: number): AddJobsJobSpec[] =>
  GRAPHILE_TASKS.map((identifier) => ({ identifier, payload: { i, t: Date.now() } }));

export const graphileWorker: BenchSystem = {
  name: "graphile-worker",
  tuning: `graphile-worker 0.18.0, as its performance page: concurrentJobs ${GRAPHILE_CONCURRENCY}, maxPoolSize ${GRAPHILE_CONCURRENCY + 1}, localQueue.size ${GRAPHILE_LOCAL_QUEUE}, completeJobBatchDelay 0, failJobBatchDelay 0, prepared statements, LISTEN; enqueue: addJobs (4 jobs per event in one call; the batch: all in one call)`,

  async setup(server) {
    const db = await server.emptyDatabase();
    await runMigrations({ connectionString: db.url, logger: silentLogger });
    return db;
  },

  async producer(url, connections) {
    // Our own pool, so that a connection terminated when the bench drops the database after
    // close() is an event we expect, not an unhandled 'error' that kills the bench.
    const pool = new pg.Pool({ connectionString: url, max: connections });
    let closing = false;
    const report = (error: Error) => closing || console.error("graphile-worker producer:", error.message);
    pool.on("error", report);
    pool.on("connect", (client) => client.on("error", report)); // as graphile-worker asks of a pool it is given
    const utils = await makeWorkerUtils({ pgPool: pool, logger: silentLogger });
    return {
      emitOne: async (i) => void (await utils.addJobs(jobsOf(i))),
      emitBatch: async (from, count) => {
        const specs: AddJobsJobSpec[] = [];
        for (let i = from; i < from + count; i++) specs.push(...jobsOf(i));
        await utils.addJobs(specs);
      },
      close: async () => {
        closing = true;
        await utils.release();
        await pool.end();
      },
    };
  },

  async startWorkers(url, processes) {
    return await Promise.all(Array.from({ length: processes }, () => startWorker("bench/workers/graphile-worker.ts", { DATABASE_URL: url })));
  },

  async drained({ sql }) {
    const [row] = await sql`select not exists (select 1 from graphile_worker._private_jobs order by id limit 1) as done`;
    return row.done;
  },

  async firstStartedAt(_db, workers) {
    // No trace in the database: each runner prints when its first job started.
    const starts = workers.map((w) => Number(/first job started at (\d+)/.exec(w.output())?.[1]));
    if (starts.some(Number.isNaN)) throw new Error("graphile-worker: a runner did not report its first job");
    return Math.min(...starts);
  },

  async lastDoneAt() {
    return undefined; // completed jobs are deleted with no trace: the poll's time stands
  },

  async verifiedRuns({ sql }) {
    // Nothing left and nothing failed: every job ran and was deleted. graphile-worker keeps
    // no log to count, so the runs are the jobs added (checked empty here).
    const [row] = await sql`select count(*)::int as left from graphile_worker._private_jobs`;
    if (row.left) throw new Error(`graphile-worker: ${row.left} jobs left`);
    return -1;
  },

  async prepareLatencyProbe({ sql }) {
    await sql.unsafe(`
      create table bench_done (i int not null, emitted_ms double precision not null, done_at timestamptz not null default clock_timestamp());
      create function bench_note_done() returns trigger language plpgsql as $$
      begin
        insert into bench_done (i, emitted_ms) values ((old.payload ->> 'i')::int, (old.payload ->> 't')::double precision);
        return null;
      end $$;
      create trigger bench_note_done after delete on graphile_worker._private_jobs
        for each row execute function bench_note_done();`);
  },

  async latencies({ sql }, sinceMs) {
    const rows = await sql<{ ms: number; jobs: number }[]>`
      select extract(epoch from max(done_at)) * 1000 - min(emitted_ms) as ms, count(*)::int as jobs from bench_done group by i having min(emitted_ms) >= ${sinceMs}`;
    if (rows.some((r) => r.jobs !== HANDLERS_PER_EVENT)) throw new Error("graphile-worker: an event without its four jobs");
    return rows.map((r) => Number(r.ms));
  },
};
