/**
 * `npm run bench`: Feyxa against pgmq, pg-boss and graphile-worker (current releases, each
 * tuned as its docs say), on PostgreSQL 17 (embedded) and on Debian's PostgreSQL 15 (a
 * cluster the bench starts), one table per version, or on the one server DATABASE_URL
 * names. Systems take turns in alternating rounds (order reversed every other round), each
 * in a fresh database; the table shows medians and their spread. Writes JSON to bench-results/.
 *
 * Knobs (environment): BENCH_QUICK=1 (a smoke run of about 3 minutes: 1,000 events, 1 round; small figures, not
 * for comparison), BENCH_PG (tiers, "17,15"), BENCH_ROUNDS (drain rounds, 3), BENCH_EMIT_ROUNDS (2),
 * BENCH_EVENTS (drain backlog, 20000), BENCH_RATE (latency events/s, 1000),
 * BENCH_LATENCY_SECONDS (30), BENCH_WARMUP_SECONDS (2, at the same rate before each latency run,
 * left out of it), BENCH_LADDER (rates tried for the highest whose p99 stays under 100 ms, from
 * the latency run's up or down: 250,500,2000,4000,8000; "" skips it), BENCH_LADDER_SECONDS (10), BENCH_EMIT_MS (per emit run, 3000), BENCH_ONLY (drain,emit,latency,flow,scale,monitor;
 * scale is opt-in; trace and monitor are in the default), BENCH_SYSTEMS (feyxa,pgmq,pgmq-delete,pg-boss,graphile-worker), PGMQ_SQL
 * (pgmq's SQL-only install; default ../shared/vendor/pgmq-1.5.1.sql), BENCH_VERBOSE=1 (workers'
 * stderr), BENCH_PG_STATS=1 (after each drain: time by statement from pg_stat_statements, WAL
 * per event, writes and HOT updates by table).
 * Flow control (issue 14; BENCH_ONLY=flow for these alone): the drain rounds also run Feyxa at
 * BENCH_BASE_REV (a3983f3, before flow control: support/base-rev.ts) and Feyxa with every
 * event ordered and tenant fairness on (systems/feyxa-flow.ts; BENCH_FLOW_AGGREGATES 2000,
 * BENCH_FLOW_TENANTS 50; BENCH_FLOW_PARTS=1 adds each of the two alone); then the fairness figure (workloads/fairness.ts) in BENCH_FAIR_ROUNDS
 * (3) alternating rounds of idle / flood with fairness off / on, BENCH_FLOOD_EVENTS (20000) from A
 * in calls of BENCH_FLOOD_PER_CALL (1000). BENCH_ROUNDS=0 or BENCH_FAIR_ROUNDS=0 leaves out either part.
 * Observability (issue 16; BENCH_ONLY=trace): the drain rounds also run Feyxa with an
 * OpenTelemetry SDK registered in its dispatchers, recording every trace and one in ten,
 * and the metrics scraped every second (systems/feyxa-traced.ts); and pg-boss with the same
 * SDK in its workers, beside pg-boss (its own tracing's cost; systems/pg-boss.ts).
 * The Supabase path (BENCH_ONLY=supabase; workloads/supabase-path.ts), once, on PostgreSQL 15
 * with pg_net and pg_cron whatever BENCH_PG says: process-event as the only consumer against
 * pgmq consumed by a cron-driven Edge Function; BENCH_SUPABASE_BURST (5000 events committed at
 * once), BENCH_SUPABASE_RATE (200 events/s) for BENCH_SUPABASE_SECONDS (20).
 * The monitor at volume (BENCH_ONLY=monitor, in the default; workloads/monitor.ts), per tier: its
 * first reads over HTTP on a log of BENCH_MONITOR_EVENTS (1,000,000; quick 100,000) events,
 * 1 warm-up and 20 timed calls a path, target p95 < 300 ms; about 45 s a tier (the seed ~25 s).
 */
import { cpus } from "node:os";
import { graphileWorker } from "./systems/graphile-worker.ts";
import { feyxa } from "./systems/feyxa.ts";
import { feyxaFairOnly, feyxaFlow, feyxaOrderedOnly } from "./systems/feyxa-flow.ts";
import { feyxaTraced, feyxaTracedSampled } from "./systems/feyxa-traced.ts";
import { baseRevision } from "./support/base-rev.ts";
import { median } from "./support/report.ts";
import { fairness, fairnessTuning, type FairnessMode } from "./workloads/fairness.ts";
import { pgBoss, pgBossTraced } from "./systems/pg-boss.ts";
import { pgmq, pgmqDelete, whyNoPgmq } from "./systems/pgmq.ts";
import type { BenchSystem } from "./systems/system.ts";
import { printReport, saveReport, type Report, type TierReport } from "./support/report.ts";
import { startBenchServer, whyNoTier, type Tier } from "./support/server.ts";
import { drain } from "./workloads/drain.ts";
import { emitRate, plainInsertRate } from "./workloads/emit.ts";
import { highestRateUnder, latency } from "./workloads/latency.ts";
import { monitorReads } from "./workloads/monitor.ts";
import { supabasePath, supabasePathTuning, whyNoSupabasePath } from "./workloads/supabase-path.ts";

const QUICK = Boolean(process.env.BENCH_QUICK);
const num = (name: string, full: number, quick: number) => Number(process.env[name] ?? (QUICK ? quick : full));
const settings = {
  events: num("BENCH_EVENTS", 20_000, 1_000),
  rounds: num("BENCH_ROUNDS", 3, 1),
  emitRounds: num("BENCH_EMIT_ROUNDS", 2, 1),
  emitMs: num("BENCH_EMIT_MS", 3_000, 500),
  latencyRate: num("BENCH_RATE", 1_000, 1_000),
  latencySeconds: num("BENCH_LATENCY_SECONDS", 30, 2),
  fairRounds: num("BENCH_FAIR_ROUNDS", 3, 1),
  ladderSeconds: num("BENCH_LADDER_SECONDS", 10, 2),
  floodEvents: num("BENCH_FLOOD_EVENTS", 20_000, 2_000),
  supabaseBurst: num("BENCH_SUPABASE_BURST", 5_000, 500),
  supabaseRate: num("BENCH_SUPABASE_RATE", 200, 200),
  supabaseSeconds: num("BENCH_SUPABASE_SECONDS", 20, 2),
  monitorEvents: num("BENCH_MONITOR_EVENTS", 1_000_000, 100_000),
};
/** The rates tried for the highest one whose p99 stays under 100 ms ("" leaves the search out). */
const ladder = (process.env.BENCH_LADDER ?? (QUICK ? "" : "250,500,2000,4000,8000")).split(",").filter(Boolean).map(Number);
const only = new Set((process.env.BENCH_ONLY ?? "drain,emit,latency,flow,trace,supabase,monitor").split(","));
const base = only.has("flow") ? await baseRevision() : undefined;
const all: BenchSystem[] = [feyxa, pgmq, pgmqDelete, pgBoss, graphileWorker];
const chosen = all.filter((s) => (process.env.BENCH_SYSTEMS ?? s.name).split(",").includes(s.name));
const noPgmq = whyNoPgmq();
const systems = chosen.filter((s) => !(noPgmq && s.name.startsWith("pgmq")));
// The Supabase path brings its own server; the rest runs per tier.
const perTier = ["drain", "emit", "latency", "flow", "trace", "scale", "monitor"].some((part) => only.has(part));
const tiers: Tier[] = !perTier ? [] : process.env.DATABASE_URL ? ["url"] : (process.env.BENCH_PG ?? "17,15").split(",") as Tier[];
const log = (message: string) => console.error(`bench  ${message}`);
/** Round r's order: as listed, reversed every other round, so that no system always follows the same one. */
const inTurn = <T>(xs: T[], r: number) => (r % 2 ? [...xs].reverse() : xs);
const push = <T>(o: Record<string, T[]>, k: string, v: T) => void (o[k] ??= []).push(v);

async function runTier(tier: Tier): Promise<TierReport> {
  const started = performance.now();
  const server = await startBenchServer(tier);
  log(`${server.description}: ${systems.map((s) => s.name).join(", ")}`);
  const t: TierReport = { postgres: server.description, role: server.role, skipped: {}, drain: {}, emit: {}, emitBatch: {}, plainInsert: [], latency: {}, highestRateUnder100ms: {}, scale: [], fairness: {}, seconds: 0 };
  if (noPgmq) t.skipped.pgmq = noPgmq;
  const full = systems.filter((s) => !s.drainOnly);
  // The flow rows join the drain's rounds, beside the plain Feyxa they are compared with.
  const drained = only.has("drain") ? [...systems] : [];
  if (base) {
    if (!drained.includes(feyxa)) drained.unshift(feyxa);
    drained.splice(drained.indexOf(feyxa) + 1, 0, await base.system(server), feyxaFlow, ...(process.env.BENCH_FLOW_PARTS ? [feyxaOrderedOnly, feyxaFairOnly] : []));
  }
  // Tracing's rows (issue 16) join them too, beside the plain Feyxa; pg-boss's beside pg-boss.
  if (only.has("trace")) {
    if (!drained.includes(feyxa)) drained.unshift(feyxa);
    drained.splice(drained.indexOf(feyxa) + 1, 0, feyxaTraced, feyxaTracedSampled);
    if (systems.includes(pgBoss)) {
      if (!drained.includes(pgBoss)) drained.push(pgBoss);
      drained.splice(drained.indexOf(pgBoss) + 1, 0, pgBossTraced);
    }
  }
  try {
    if (drained.length) {
      for (let r = 0; r < settings.rounds; r++) {
        for (const system of inTurn(drained, r)) {
          log(`round ${r + 1}/${settings.rounds}, ${system.name}: drain of ${settings.events} events x 4 handlers`);
          const d = await drain(system, server, settings.events);
          log(`  ${Math.round(d.runsPerSecond)} runs/s, ${Math.round(d.walBytesPerEvent)} WAL bytes/event`);
          push(t.drain, system.name, d);
        }
      }
    }
    if (only.has("emit")) {
      for (let r = 0; r < settings.emitRounds; r++) {
        for (const system of inTurn(full, r)) {
          log(`round ${r + 1}/${settings.emitRounds}, ${system.name}: emit, then batched emit, ${settings.emitMs} ms each`);
          push(t.emit, system.name, await emitRate(system, server, settings.emitMs, false));
          // Right after ours, so that the ratio compares the two under the same machine load.
          if (system.name === "feyxa") t.plainInsert.push(await plainInsertRate(server, settings.emitMs));
          push(t.emitBatch, system.name, await emitRate(system, server, settings.emitMs, true));
        }
      }
    }
    if (only.has("latency")) {
      for (const system of full) {
        log(`${system.name}: ${settings.latencyRate} events/s for ${settings.latencySeconds} s`);
        t.latency[system.name] = await latency(system, server, settings.latencyRate, settings.latencySeconds);
      }
      for (const system of ladder.length ? full : []) {
        log(`${system.name}: the highest rate whose p99 stays under 100 ms (${settings.ladderSeconds} s a step)`);
        t.highestRateUnder100ms[system.name] = await highestRateUnder(system, server, t.latency[system.name], ladder, settings.ladderSeconds, 100, log) ?? null;
      }
    }
    if (only.has("scale") && systems.includes(feyxa)) {
      for (const processes of [1, 2, 4]) {
        log(`feyxa: drain with ${processes} dispatcher processes`);
        t.scale.push(await drain(feyxa, server, settings.events, processes));
      }
    }
    if (only.has("monitor")) {
      log(`monitor: its first reads at ${settings.monitorEvents.toLocaleString("en-US")} events, over HTTP as an admin`);
      t.monitor = await monitorReads(server, settings.monitorEvents, log);
    }
    if (only.has("flow")) {
      const modes: FairnessMode[] = ["idle", "off", "on"];
      for (let r = 0; r < settings.fairRounds; r++) {
        for (const mode of inTurn(modes, r)) {
          // B alone is spread over as long as A's floods took to emit so far (2 s before the first).
          const spans = [...(t.fairness.off ?? []), ...(t.fairness.on ?? [])].map((x) => x.floodEmitMs);
          const span = spans.length ? median(spans) : 2_000;
          log(`round ${r + 1}/${settings.fairRounds}, fairness: ${mode === "idle" ? `B alone over ${Math.round(span)} ms` : `A floods ${settings.floodEvents} events, fairness ${mode}`}`);
          const f = await fairness(server, mode, settings.floodEvents, span);
          const sorted = [...f.latencies].sort((a, b) => a - b);
          log(`  B: p50 ${Math.round(sorted[Math.floor(sorted.length / 2)])} ms, max ${Math.round(sorted.at(-1)!)} ms; A emitted in ${Math.round(f.floodEmitMs)} ms, bus empty after ${Math.round(f.totalMs)} ms`);
          push(t.fairness, mode, f);
        }
      }
    }
  } finally {
    t.seconds = Math.round((performance.now() - started) / 1000);
    await base?.dispose(server);
    await server.stop();
  }
  return t;
}

const report: Report = {
  at: new Date().toISOString(),
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? "unknown",
  node: process.version,
  quick: QUICK,
  settings,
  tuning: {
    ...Object.fromEntries(systems.map((s) => [s.name, s.tuning])),
    ...(only.has("trace") ? Object.fromEntries([feyxaTraced, feyxaTracedSampled, ...(systems.includes(pgBoss) ? [pgBossTraced] : [])].map((s) => [s.name, s.tuning])) : {}),
    ...(only.has("supabase") ? supabasePathTuning : {}),
    ...(base ? { [`feyxa@${base.rev}`]: `Feyxa at ${base.rev} (its migrations and dispatcher), tuned as feyxa`, "feyxa-flow": feyxaFlow.tuning, fairness: fairnessTuning } : {}),
  },
  tiers: [],
  skippedTiers: [],
  seconds: 0,
};
const startedAt = performance.now();
for (const tier of tiers) {
  const why = whyNoTier(tier);
  if (why) {
    log(why);
    report.skippedTiers.push(why);
    continue;
  }
  report.tiers.push(await runTier(tier));
}
if (only.has("supabase")) {
  const why = whyNoSupabasePath();
  if (why) {
    log(why);
    report.skippedTiers.push(why);
  } else {
    report.supabasePath = await supabasePath({ burst: settings.supabaseBurst, rate: settings.supabaseRate, seconds: settings.supabaseSeconds }, log);
  }
}
report.seconds = Math.round((performance.now() - startedAt) / 1000);
if (noPgmq) report.tuning.pgmq = noPgmq;
printReport(report, systems.map((s) => s.name));
log(`results: ${await saveReport(report)}`);
