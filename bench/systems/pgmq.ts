/**
 * pgmq 1.5.1, the queue behind Supabase Queues, installed from its SQL-only file (never
 * copied into this repository: ../shared/vendor/pgmq-1.5.1.sql, or PGMQ_SQL). pgmq has no
 * fan-out, so a pgmq user fans out as the bench does: one queue per handler, and a send
 * (or send_batch) to each of the four. Its recommended consumer loop, in a worker process:
 * pgmq.read of a batch, then pgmq.archive of the batch (or pgmq.delete: the "pgmq-delete"
 * row, drain only); read_with_poll in the latency run. A handler run is a message archived
 * (a row of pgmq.a_<queue>) or, with delete, the message's deletion.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import postgres from "postgres";
import { startWorker } from "../support/child.ts";
import { HANDLERS_PER_EVENT, type BenchSystem } from "./system.ts";

export const PGMQ_QUEUES = ["bench_a", "bench_b", "bench_c", "bench_d"];
export const PGMQ_BATCH = Number(process.env.BENCH_PGMQ_BATCH ?? 500);
export const PGMQ_LOOPS_PER_QUEUE = Number(process.env.BENCH_PGMQ_LOOPS ?? 2);
export const PGMQ_VT_SECONDS = 30;
/** read_with_poll in the latency run: wait up to 1 s in the server, checking every 10 ms. */
export const PGMQ_POLL_SECONDS = 1;
export const PGMQ_POLL_INTERVAL_MS = 10;

const ROOT = new URL("../../", import.meta.url).pathname;
export const PGMQ_SQL = process.env.PGMQ_SQL ?? resolve(ROOT, "../shared/vendor/pgmq-1.5.1.sql");

/** Why the pgmq rows cannot run here, or undefined. */
export function whyNoPgmq(): string | undefined {
  if (!existsSync(PGMQ_SQL)) return `pgmq skipped: its SQL-only install is absent (${PGMQ_SQL}; set PGMQ_SQL to pgmq-1.5.1.sql)`;
  return undefined;
}

const quiet = { onnotice: () => {} };
const messageOf = (i: number) => ({ i, t: Date.now() });

function makePgmq(name: string, finish: "archive" | "delete"): BenchSystem {
  const archived = finish === "archive";
  return {
    name,
    drainOnly: !archived,
    tuning: `pgmq 1.5.1 (SQL-only install), fan-out as a pgmq user does it: 4 queues (pgmq.create, one per handler), each event sent to each (emit: 4 pgmq.send in one transaction; batched: pgmq.send_batch per queue, one transaction); consumer per queue: ${PGMQ_LOOPS_PER_QUEUE} loops of pgmq.read(vt ${PGMQ_VT_SECONDS} s, qty ${PGMQ_BATCH}) then pgmq.${finish}(queue, ids[]) of the batch${archived ? `; latency: pgmq.read_with_poll(max_poll ${PGMQ_POLL_SECONDS} s, interval ${PGMQ_POLL_INTERVAL_MS} ms)` : ""}; postgres.js, prepared statements`,

    async setup(server) {
      const db = await server.emptyDatabase();
      await db.sql.unsafe(readFileSync(PGMQ_SQL, "utf8"));
      for (const queue of PGMQ_QUEUES) await db.sql`select pgmq.create(${queue})`;
      return db;
    },

    async producer(url, connections) {
      const sql = postgres(url, { max: connections, ...quiet });
      return {
        emitOne: (i) => sql.begin(async (tx) => {
          const message = messageOf(i);
          for (const queue of PGMQ_QUEUES) await tx`select pgmq.send(${queue}, ${tx.json(message)})`;
        }).then(() => {}),
        emitBatch: (from, count) => sql.begin(async (tx) => {
          const messages = Array.from({ length: count }, (_, k) => JSON.stringify(messageOf(from + k)));
          for (const queue of PGMQ_QUEUES) await tx`select count(*) from pgmq.send_batch(${queue}, ${messages}::jsonb[])`;
        }).then(() => {}),
        close: () => sql.end({ timeout: 5 }),
      };
    },

    async startWorkers(url, processes, purpose = "drain") {
      const env = { DATABASE_URL: url, PGMQ_FINISH: finish, PGMQ_POLL: purpose === "latency" ? "1" : "" };
      return await Promise.all(Array.from({ length: processes }, () => startWorker("bench/workers/pgmq.ts", env)));
    },

    async drained({ sql }) {
      const counts = PGMQ_QUEUES.map((q) => `(select count(*) from (select 1 from pgmq.q_${q} limit 1) x)`).join(" + ");
      const [row] = await sql.unsafe(`select ${counts} = 0 as done`);
      return row.done;
    },

    async firstStartedAt(_db, workers) {
      const starts = workers.map((w) => Number(/first read at (\d+)/.exec(w.output())?.[1]));
      if (starts.some(Number.isNaN)) throw new Error(`${name}: a worker did not report its first read`);
      return Math.min(...starts);
    },

    async lastDoneAt({ sql }) {
      if (!archived) return undefined; // a deleted message leaves no trace: the poll's time stands
      const max = PGMQ_QUEUES.map((q) => `(select max(archived_at) from pgmq.a_${q})`).join(", ");
      const [row] = await sql.unsafe(`select extract(epoch from greatest(${max})) * 1000 as at`);
      return Number(row.at);
    },

    async verifiedRuns({ sql }) {
      const left = PGMQ_QUEUES.map((q) => `(select count(*) from pgmq.q_${q})`).join(" + ");
      const [row] = await sql.unsafe(`select (${left})::int as left`);
      if (row.left) throw new Error(`${name}: ${row.left} messages left`);
      if (!archived) return -1; // deleted: the runs are the messages sent (checked gone here)
      const union = PGMQ_QUEUES.map((q) => `select read_ct from pgmq.a_${q}`).join(" union all ");
      const [runs] = await sql.unsafe(`select count(*)::int as n, count(*) filter (where read_ct > 1)::int as twice from (${union}) a`);
      if (runs.twice) throw new Error(`${name}: ${runs.twice} messages read more than once`);
      return runs.n;
    },

    async latencies({ sql }, sinceMs) {
      const union = PGMQ_QUEUES.map((q) => `select message, archived_at from pgmq.a_${q}`).join(" union all ");
      const rows = await sql.unsafe(`
        select extract(epoch from max(archived_at)) * 1000 - min((message ->> 't')::float8) as ms, count(*)::int as runs
        from (${union}) a group by message ->> 'i' having min((message ->> 't')::float8) >= $1`, [sinceMs]);
      if (rows.some((r) => r.runs !== HANDLERS_PER_EVENT)) throw new Error(`${name}: an event without its four runs`);
      return rows.map((r) => Number(r.ms));
    },
  };
}

export const pgmq = makePgmq("pgmq", "archive");
export const pgmqDelete = makePgmq("pgmq-delete", "delete");
