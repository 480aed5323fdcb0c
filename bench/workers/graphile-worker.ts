/** A graphile-worker runner process for the bench: four no-op tasks, tuned as its performance page says. */
import { EventEmitter } from "node:events";
import { run, type WorkerEvents } from "graphile-worker";
import { GRAPHILE_CONCURRENCY, GRAPHILE_LOCAL_QUEUE, GRAPHILE_TASKS, silentLogger } from "../systems/graphile-worker.ts";

// Our own emitter, given to run(), so that no job can start before we listen.
const events = new EventEmitter() as WorkerEvents;
events.once("job:start", () => console.log(`first job started at ${Date.now()}`));
const runner = await run({
  events,
  connectionString: process.env.DATABASE_URL,
  concurrency: GRAPHILE_CONCURRENCY,
  maxPoolSize: GRAPHILE_CONCURRENCY + 1,
  noHandleSignals: true,
  taskList: Object.fromEntries(GRAPHILE_TASKS.map((name) => [name, async () => {}])),
  preset: { worker: { localQueue: { size: GRAPHILE_LOCAL_QUEUE }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  logger: silentLogger,
});
console.log(`graphile-worker runner ready, pid ${process.pid}`);

const stop = async () => {
  await runner.stop();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
