/**
 * A pg-boss 12 worker process for the bench: batch-fetching no-op workers on the four queues,
 * woken by NOTIFY, bursting while batches are full. BENCH_OTEL=1: with the bench's OpenTelemetry
 * SDK registered first (otel-sdk.ts), so that pg-boss's own tracing takes it up.
 */
import { PgBoss } from "pg-boss";
import { PG_BOSS_BATCH, PG_BOSS_OPTIONS, PG_BOSS_POLL_SECONDS, PG_BOSS_QUEUES, PG_BOSS_WORKERS_PER_QUEUE } from "../systems/pg-boss.ts";

// Before the instance is made: pg-boss takes its tracer from the registered provider then.
if (process.env.BENCH_OTEL === "1") await import("../otel-sdk.ts");

const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, max: 20, ...PG_BOSS_OPTIONS });
boss.on("error", (error) => console.error("pg-boss worker:", error));
boss.on("warning", (warning) => console.error("pg-boss worker warning:", warning));
await boss.start();
for (const queue of PG_BOSS_QUEUES) {
  await boss.work(queue, {
    batchSize: PG_BOSS_BATCH,
    localConcurrency: PG_BOSS_WORKERS_PER_QUEUE,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: PG_BOSS_POLL_SECONDS,
  }, async () => {});
}
console.log(`pg-boss worker ready, pid ${process.pid}`);

const stop = async () => {
  await boss.stop({ graceful: true, timeout: 10_000 });
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
