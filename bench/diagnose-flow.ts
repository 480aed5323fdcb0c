/**
 * `npx tsx bench/diagnose-flow.ts [17|15]`: what flow control costs the server, per event,
 * measured in the backend's CPU time rather than wall time (so that other work on the
 * machine blurs it less). For each mode (none, ordered, fair, ordered + fair) in
 * alternating rounds (BENCH_ROUNDS, 3), a fresh database gets the flow bench's backlog
 * (BENCH_EVENTS, 20000, over 2,000 aggregates and 50 tenants), then one connection drains it
 * with claim_events (200) and complete_attempts (the bench's four handlers, all
 * successful), no dispatcher in between. Prints the median CPU microseconds per event of the
 * drain, and its ratio to the mode without flow control. BENCH_FLOW_MODES (ordered,fair,ordered+fair)
 * picks the modes besides none; "base" is no flow control at BENCH_BASE_REV (a3983f3, before it:
 * support/base-rev.ts), its schema, the same backlog and loop. BENCH_PG_STATS=1: the first round's
 * statements by time, WAL and table writes, per mode (support/pg-stats.ts); BENCH_PERF=1: the
 * first round's backend profiled by perf (software clock) into /tmp/feyxa-flow-<mode>.perf.
 */
import { spawn } from "node:child_process";
import { configureEventType, configureTenantFairness, type NewEvent } from "../src/bus/index.ts";
import { BENCH_EVENT, BENCH_HANDLERS } from "./noop-handlers.ts";
import { drainCost, printStatementStats, resetStatementStats, snapshot } from "./support/pg-stats.ts";
import { baseRevision } from "./support/base-rev.ts";
import { cpuMicros } from "./support/timing.ts";
import { startBenchServer, type Tier } from "./support/server.ts";
import { busProducer, feyxa } from "./systems/feyxa.ts";

const tier = (process.argv[2] ?? "17") as Tier;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 200;
const modes = [
  { name: "none", ordered: false, fair: false },
  { name: "base", ordered: false, fair: false },
  { name: "ordered", ordered: true, fair: false },
  { name: "fair", ordered: false, fair: true },
  { name: "ordered+fair", ordered: true, fair: true },
].filter((m) => m.name === "none" || (process.env.BENCH_FLOW_MODES ?? "ordered,fair,ordered+fair").split(",").includes(m.name));
const baseRev = modes.some((m) => m.name === "base") ? await baseRevision() : undefined;

const server = await startBenchServer(tier);
const results: Record<string, number[]> = {};
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 ? [...modes].reverse() : modes) {
      const db = mode.name === "base" ? await (await baseRev!.system(server)).setup(server) : await feyxa.setup(server);
      try {
        if (mode.ordered) await configureEventType(db.sql, BENCH_EVENT, { ordered: true });
        if (mode.fair) await configureTenantFairness(db.sql, { enabled: true, maxInFlight: null });
        const aggregates = Array.from({ length: 2_000 }, () => crypto.randomUUID());
        const tenants = Array.from({ length: 50 }, () => crypto.randomUUID());
        const producer = await busProducer(db.url, 1, (i): NewEvent => ({
          event_type: BENCH_EVENT, aggregate_type: "bench", aggregate_id: aggregates[i % 2_000],
          tenant_id: tenants[(i % 2_000) % 50], payload: { i },
        }));
        await producer.emitBatch(0, EVENTS);
        await producer.close();
        await db.sql`analyze`;
        await resetStatementStats(db);
        const before = await snapshot(db.sql);
        const [{ pid }] = await db.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
        // BENCH_PERF=1: the backend profiled during the drain (perf record, software clock), to /tmp/feyxa-flow-<mode>.perf.
        const perf = process.env.BENCH_PERF && r === 0
          ? spawn("perf", ["record", "-q", "-e", "cpu-clock", "-g", "-p", String(pid), "-o", `/tmp/feyxa-flow-${mode.name}.perf`], { stdio: "ignore" })
          : undefined;
        if (perf) await new Promise((ok) => setTimeout(ok, 300));
        const cpuBefore = cpuMicros(pid);
        const started = performance.now();
        let done = 0;
        while (done < EVENTS) {
          const claimed = await db.sql<{ id: string; attempt: number }[]>`select id, attempt from feyxa.claim_events('diagnose', ${BATCH}, '30 seconds')`;
          if (claimed.length === 0) throw new Error(`${mode.name}: nothing to claim after ${done} events`);
          const outcome = claimed.map((e) => ({
            event_id: e.id, attempt: e.attempt,
            handlers: BENCH_HANDLERS.map((h) => ({ handler_name: h, status: "success", duration_ms: 0 })),
          }));
          await db.sql`select count(*) from feyxa.complete_attempts('diagnose', ${db.sql.json(outcome)})`;
          done += claimed.length;
        }
        const cpu = (cpuMicros(pid) - cpuBefore) / EVENTS;
        if (perf) await new Promise((ok) => { perf.on("exit", ok); perf.kill("SIGINT"); });
        (results[mode.name] ??= []).push(cpu);
        if (r === 0) {
          const after = await snapshot(db.sql);
          await printStatementStats(db, mode.name, await drainCost(db.sql, before, after.lsn, after), EVENTS, 16);
        }
        console.error(`round ${r + 1} ${mode.name}: ${cpu.toFixed(1)} µs CPU/event, ${((performance.now() - started) / EVENTS * 1000).toFixed(1)} µs wall/event`);
      } finally {
        await db.drop();
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(results.none);
  console.log(`${server.description}: drain CPU per event (one backend, claim ${BATCH} + complete), median of ${ROUNDS}`);
  for (const m of modes) console.log(`  ${m.name.padEnd(13)} ${median(results[m.name]).toFixed(1).padStart(7)} µs  ${(base / median(results[m.name])).toFixed(2)}× the speed of none`);
} finally {
  await baseRev?.dispose(server);
  await server.stop();
}
