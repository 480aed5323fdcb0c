/**
 * `npx tsx bench/diagnose-trace.ts [17|15]`: what tracing costs the dispatcher, per event, in
 * its process's CPU time rather than wall time (so that other work on the machine blurs it
 * less). For each BENCH_TRACE_MODES mode (off, and sdk by default; bench/otel-sdk.ts
 * lists them) in alternating rounds (BENCH_ROUNDS, 3), a fresh database gets a backlog of
 * BENCH_EVENTS (20000) bench events, one dispatcher process drains it, and the CPU it spent
 * from ready to drained is divided by the events. Prints the median per mode and its ratio to off.
 */
import { startBenchServer, type Tier } from "./support/server.ts";
import { bundleDispatcher } from "./support/bundle.ts";
import { startWorker } from "./support/child.ts";
import { cpuMicros, waitUntil } from "./support/timing.ts";
import { feyxa, feyxaBacklog } from "./systems/feyxa.ts";

const tier = (process.argv[2] ?? "17") as Tier;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const modes = ["off", ...(process.env.BENCH_TRACE_MODES ?? "sdk").split(",").filter((m) => m !== "off")];

const server = await startBenchServer(tier);
const bundle = await bundleDispatcher();
const results: Record<string, number[]> = {};
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 ? [...modes].reverse() : modes) {
      const db = await feyxaBacklog(server, EVENTS);
      try {
        const started = performance.now();
        const worker = await startWorker(bundle.dispatcher, {
          DATABASE_URL: db.url, FEYXA_HANDLERS: bundle.tracedHandlers, BENCH_TRACE_MODE: mode,
          FEYXA_BATCH_SIZE: "200", FEYXA_CONCURRENCY: "2",
        });
        const cpuBefore = cpuMicros(worker.pid);
        try {
          await waitUntil(() => feyxa.drained(db), 180_000, 25);
          const cpu = (cpuMicros(worker.pid) - cpuBefore) / EVENTS;
          (results[mode] ??= []).push(cpu);
          console.error(`round ${r + 1} ${mode}: ${cpu.toFixed(1)} µs dispatcher CPU/event, ${((performance.now() - started) / EVENTS * 1000).toFixed(1)} µs wall/event`);
        } finally {
          await worker.stop();
        }
      } finally {
        await db.drop();
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results.off);
  console.log(`${server.description}: dispatcher CPU per event (one process, batch 200, concurrency 2), median of ${ROUNDS}`);
  for (const m of modes) console.log(`  ${m.padEnd(10)} ${median(results[m]).toFixed(1).padStart(7)} µs  ${(base / median(results[m])).toFixed(2)}× the speed of off`);
} finally {
  await server.stop();
}
