/** A pg-boss worker process for the bench: batch-fetching no-op workers on the four queues. */
import PgBoss from "pg-boss";
import { PG_BOSS_BATCH, PG_BOSS_POLL_SECONDS, PG_BOSS_QUEUES, PG_BOSS_WORKERS_PER_QUEUE } from "../systems/pg-boss.ts";

const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, max: 20 });
boss.on("error", (error) => console.error("pg-boss worker:", error));
await boss.start();
for (const queue of PG_BOSS_QUEUES) {
  for (let w = 0; w < PG_BOSS_WORKERS_PER_QUEUE; w++) {
    await boss.work(queue, { batchSize: PG_BOSS_BATCH, pollingIntervalSeconds: PG_BOSS_POLL_SECONDS }, async () => {});
  }
}
console.log(`pg-boss worker ready, pid ${process.pid}`);

const stop = async () => {
  await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
