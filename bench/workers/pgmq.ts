/**
 * A pgmq consumer process for the bench: per queue, PGMQ_LOOPS_PER_QUEUE loops of
 * pgmq.read (a batch) then pgmq.archive (or pgmq.delete, PGMQ_FINISH=delete) of the batch's
 * ids, the handler a no-op. Empty reads sleep 10 ms; with PGMQ_POLL=1 (the latency run) the
 * loops use pgmq.read_with_poll instead, which waits in the server.
 */
import postgres from "postgres";
import { PGMQ_BATCH, PGMQ_LOOPS_PER_QUEUE, PGMQ_POLL_INTERVAL_MS, PGMQ_POLL_SECONDS, PGMQ_QUEUES, PGMQ_VT_SECONDS } from "../systems/pgmq.ts";

const finish = process.env.PGMQ_FINISH === "delete" ? "delete" : "archive";
const poll = process.env.PGMQ_POLL === "1";
const sql = postgres(process.env.DATABASE_URL!, { max: PGMQ_QUEUES.length * PGMQ_LOOPS_PER_QUEUE, onnotice: () => {} });
let stopping = false;
let reported = false;

const read = (queue: string) => poll
  ? sql<{ msg_id: string }[]>`select msg_id from pgmq.read_with_poll(${queue}, ${PGMQ_VT_SECONDS}, ${PGMQ_BATCH}, ${PGMQ_POLL_SECONDS}, ${PGMQ_POLL_INTERVAL_MS})`
  : sql<{ msg_id: string }[]>`select msg_id from pgmq.read(${queue}, ${PGMQ_VT_SECONDS}, ${PGMQ_BATCH})`;
const done = (queue: string, ids: string[]) => finish === "archive"
  ? sql`select count(*) from pgmq.archive(${queue}, ${ids}::bigint[])`
  : sql`select count(*) from pgmq.delete(${queue}, ${ids}::bigint[])`;

async function loop(queue: string): Promise<void> {
  while (!stopping) {
    const batch = await read(queue);
    if (batch.length === 0) {
      if (!poll) await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    if (!reported) {
      reported = true;
      console.log(`first read at ${Date.now()}`);
    }
    await Promise.all(batch.map(async () => {})); // the four handlers are no-ops
    await done(queue, batch.map((m) => m.msg_id));
  }
}

await sql`select 1`;
const loops = PGMQ_QUEUES.flatMap((q) => Array.from({ length: PGMQ_LOOPS_PER_QUEUE }, () => loop(q)));
console.log(`pgmq worker ready, pid ${process.pid}`);

const stop = async () => {
  stopping = true;
  await Promise.allSettled(loops);
  await sql.end({ timeout: 5 });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
