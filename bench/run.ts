/**
 * `npm run bench`: Feyxa against pg-boss and graphile-worker on one PostgreSQL (the
 * embedded one, or DATABASE_URL), one system at a time, a fresh database each.
 * Prints a table of figures and ratios and writes it as JSON to bench-results/.
 *
 * Knobs (environment): BENCH_EVENTS (drain backlog, 20000), BENCH_RATE (latency
 * events/s, 1000), BENCH_LATENCY_SECONDS (30), BENCH_EMIT_MS (per emit run, 3000),
 * BENCH_ONLY (comma-separated: drain,emit,latency,scale), BENCH_SYSTEMS (feyxa,pg-boss,graphile-worker),
 * BENCH_VERBOSE=1 (workers' stderr), BENCH_PG_STATS=1 (after each drain, the server's time by
 * statement from pg_stat_statements, statements inside functions included; embedded server only).
 */
import { cpus } from "node:os";
import { graphileWorker } from "./systems/graphile-worker.ts";
import { feyxa } from "./systems/feyxa.ts";
import { pgBoss } from "./systems/pg-boss.ts";
import type { BenchSystem } from "./systems/system.ts";
import { printReport, saveReport, type Report } from "./support/report.ts";
import { startBenchServer } from "./support/server.ts";
import { drain } from "./workloads/drain.ts";
import { emitRate, plainInsertRate } from "./workloads/emit.ts";
import { latency } from "./workloads/latency.ts";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const EVENTS = num("BENCH_EVENTS", 20_000);
const RATE = num("BENCH_RATE", 1_000);
const LATENCY_SECONDS = num("BENCH_LATENCY_SECONDS", 30);
const EMIT_MS = num("BENCH_EMIT_MS", 3_000);
const only = new Set((process.env.BENCH_ONLY ?? "drain,emit,latency,scale").split(","));
const systems: BenchSystem[] = [feyxa, pgBoss, graphileWorker].filter((s) => (process.env.BENCH_SYSTEMS ?? s.name).split(",").includes(s.name));
const log = (message: string) => console.error(`bench  ${message}`);

const server = await startBenchServer();
const startedAt = performance.now();
const report: Report = {
  at: new Date().toISOString(),
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  node: process.version,
  postgres: server.description,
  tuning: Object.fromEntries(systems.map((s) => [s.name, s.tuning])),
  drain: {}, emit: {}, emitBatch: {}, latency: {}, scale: [],
  seconds: 0,
};
try {
  for (const system of systems) {
    if (only.has("drain")) {
      log(`${system.name}: drain of ${EVENTS} events x 4 handlers`);
      report.drain[system.name] = await drain(system, server, EVENTS);
    }
    if (only.has("emit")) {
      log(`${system.name}: emit, then batched emit, ${EMIT_MS} ms each`);
      report.emit[system.name] = await emitRate(system, server, EMIT_MS, false);
      if (system.name === "feyxa") {
        // Right after ours, so that the ratio compares the two under the same machine load.
        log("plain INSERT ceiling");
        report.plainInsert = await plainInsertRate(server, EMIT_MS);
      }
      report.emitBatch[system.name] = await emitRate(system, server, EMIT_MS, true);
    }
    if (only.has("latency")) {
      log(`${system.name}: ${RATE} events/s for ${LATENCY_SECONDS} s`);
      report.latency[system.name] = await latency(system, server, RATE, LATENCY_SECONDS);
    }
  }
  if (only.has("emit") && report.plainInsert === undefined) {
    log("plain INSERT ceiling");
    report.plainInsert = await plainInsertRate(server, EMIT_MS);
  }
  if (only.has("scale")) {
    for (const processes of [1, 2, 4]) {
      log(`feyxa: drain with ${processes} dispatcher processes`);
      report.scale.push(processes === 1 && report.drain.feyxa ? report.drain.feyxa : await drain(feyxa, server, EVENTS, processes));
    }
  }
} finally {
  report.seconds = Math.round((performance.now() - startedAt) / 1000);
  await server.stop();
}
printReport(report);
log(`results: ${await saveReport(report)}`);
