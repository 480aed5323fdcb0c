/**
 * The Deno half of tests/bus/functions/edge-cpu.measure.test.ts (which prepares the events and
 * runs this with DATABASE_URL): whole retry-failed-events invocations with the default
 * limits and the marketplace's handlers, in a fresh Deno process as an Edge isolate would
 * be, each measured with process.cpuUsage() (node:process, which Deno implements, so that
 * tsc checks this file as well). Prints one JSON line.
 */
import process from "node:process";
import postgres from "postgres";
import { Bus } from "../../../src/bus/bus.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createRetryFailedEvents } from "../../../src/bus/functions/retry-failed-events.ts";

const key = "sb_secret_measure";
const sql = postgres(process.env.DATABASE_URL!, { prepare: false, max: 4, onnotice: () => {} });
const bus = new Bus({ sql, handlers: engineHandlers(), workerName: "measure" });
const retry = createRetryFailedEvents(bus, { auth: () => ({ secretKeys: [key] }) });
const invocations = [];
for (let i = 0; i < Number(process.argv[2] ?? 5); i++) {
  const before = process.cpuUsage();
  const t0 = performance.now();
  const summary = await (await retry(new Request("http://localhost/functions/v1/retry-failed-events", { method: "POST", headers: { apikey: key } }))).json();
  const used = process.cpuUsage(before);
  invocations.push({ claimed: summary.claimed, handler_runs: summary.handler_runs, stopped: summary.stopped,
    cpu_ms: Math.round((used.user + used.system) / 1000), wall_ms: Math.round(performance.now() - t0) });
}
console.log(JSON.stringify(invocations));
await sql.end({ timeout: 5 });
