/**
 * The bench's output: per PostgreSQL tier, one table (ours, each peer, ours against the
 * fastest peer, the target) of medians over alternating rounds with their spread, and one
 * JSON file for the whole run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import type { DrainResult } from "../workloads/drain.ts";
import type { LatencyResult } from "../workloads/latency.ts";
import type { MonitorResult } from "../workloads/monitor.ts";
import type { SupabasePathResult } from "../workloads/supabase-path.ts";
import type { FairnessMode, FairnessResult } from "../workloads/fairness.ts";
import { percentile } from "./timing.ts";

export interface TierReport {
  postgres: string;
  role: string;
  /** Systems not measured on this tier, and why. */
  skipped: Record<string, string>;
  /** Per system, one result per round. */
  drain: Record<string, DrainResult[]>;
  emit: Record<string, number[]>;
  emitBatch: Record<string, number[]>;
  /** One per emit round, each measured right after Feyxa's single emit. */
  plainInsert: number[];
  latency: Record<string, LatencyResult>;
  /** Per system, the highest rate tried whose p99 stayed under 100 ms (null: not even the lowest). */
  highestRateUnder100ms: Record<string, number | null>;
  scale: DrainResult[];
  /** BENCH_ONLY flow: B's latencies per mode, one result per round. */
  fairness: Partial<Record<FairnessMode, FairnessResult[]>>;
  /** BENCH_ONLY monitor: the monitor's first reads over a large log. */
  monitor?: MonitorResult;
  seconds: number;
}

export interface Report {
  at: string;
  cores: number;
  cpu: string;
  node: string;
  quick: boolean;
  settings: Record<string, number>;
  tuning: Record<string, string>;
  tiers: TierReport[];
  skippedTiers: string[];
  /** BENCH_ONLY supabase: per system, on a hosted project in miniature (PostgreSQL 15, pg_net, pg_cron, Deno). */
  supabasePath?: Record<string, SupabasePathResult>;
  seconds: number;
}

export const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** "median (min–max)" over rounds, or the one value. */
const spread = (xs: number[] | undefined, digits = 0) => {
  if (!xs || xs.length === 0) return "-";
  if (xs.length === 1) return fmt(xs[0], digits);
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
};

/** Per round, ours over the fastest peer of that round; the median of those ratios. */
function roundRatios(values: Record<string, number[]>, peers: string[]): number[] {
  const ours = values.feyxa ?? [];
  return ours.map((v, r) => {
    const best = Math.max(...peers.map((p) => values[p]?.[r]).filter((x): x is number => x !== undefined));
    return Number.isFinite(best) ? v / best : NaN;
  }).filter((x) => !Number.isNaN(x));
}

export function printTier(t: TierReport, systems: string[]): string {
  const peers = systems.filter((s) => !s.startsWith("feyxa"));
  const pick = <T>(o: Record<string, T[]>, f: (x: T) => number) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.map(f)]));
  const drain = pick(t.drain, (d) => d.runsPerSecond);
  const lat = (f: (l: LatencyResult) => number) => Object.fromEntries(Object.entries(t.latency).map(([k, v]) => [k, [f(v)]]));
  const drainVs = roundRatios(drain, peers);
  const peakBy = (name: string) => peers.filter((p) => drain[p]?.length).sort((a, b) => median(drain[b]) - median(drain[a]))[0] ?? name;
  const fastest = peakBy("-");
  const insertVs = (t.emit.feyxa ?? []).map((v, r) => v / t.plainInsert[r]).filter((x) => !Number.isNaN(x));
  const batchPeer = peers.filter((p) => t.emitBatch[p]?.length).sort((a, b) => median(t.emitBatch[b]) - median(t.emitBatch[a]))[0];
  const p99Peer = peers.filter((p) => t.latency[p]).sort((a, b) => t.latency[a].p99 - t.latency[b].p99)[0];
  type Row = [string, Record<string, number[]>, number, string, string];
  const rows: Row[] = [
    ["drain: handler runs/s", drain, 0, drainVs.length ? `${spread(drainVs, 2)}x ${fastest}` : "-", ">= 1.5x fastest peer"],
    ["drain: WAL bytes/event", pick(t.drain, (d) => d.walBytesPerEvent), 0, "", ""],
    ["drain: HOT % of updates", pick(t.drain, (d) => d.cost.hotPct), 0, "", ""],
    ["emit, 1 event/call, 16 conns: events/s", t.emit, 0, insertVs.length ? `${spread(insertVs, 2)}x plain INSERT (${spread(t.plainInsert)})` : "-", ">= 0.8x plain INSERT"],
    ["emit batched (100/call): events/s", t.emitBatch, 0, batchPeer && t.emitBatch.feyxa ? `${fmt(median(t.emitBatch.feyxa) / median(t.emitBatch[batchPeer]), 2)}x ${batchPeer}` : "-", ">= pgmq send_batch"],
    ["latency p50 ms", lat((l) => l.p50), 1, "", ""],
    ["latency p95 ms", lat((l) => l.p95), 1, "", ""],
    ["latency p99 ms", lat((l) => l.p99), 1, p99Peer && t.latency.feyxa ? `${fmt(t.latency[p99Peer].p99 / t.latency.feyxa.p99, 2)}x ${p99Peer} (lower is better)` : "-", "<= 50 ms"],
    ["latency run: events/s the producer sustained", lat((l) => l.emittedPerSecond), 0, "", ""],
    ["highest rate with p99 < 100 ms, events/s (0: none from 250)", Object.fromEntries(Object.entries(t.highestRateUnder100ms ?? {}).map(([k, v]) => [k, [v ?? 0]])), 0, "", ""],
    ["worker peak RSS MB (drain)", pick(t.drain, (d) => d.peakRssMb), 0, "", "<= 150 MB"],
  ];
  if (t.scale.length) rows.push(["scale: 1 / 2 / 4 dispatchers, runs/s", { feyxa: [] }, 0, t.scale.map((d) => fmt(d.runsPerSecond)).join(" / "), "2 >= 1.6x 1"]);
  const header = ["", ...systems, "feyxa vs best peer", "target"];
  const body = rows.map(([label, values, digits, vs, target]) => [label, ...systems.map((s) => spread(values[s], digits)), vs, target]);
  const table = [header, ...body];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  // A run of parts without systems (BENCH_ONLY=monitor) would print a table of dashes.
  const measured = systems.length > 0 || t.scale.length > 0;
  const out = [
    `\n${t.postgres}, ${t.seconds} s; ${t.role}`,
    ...(measured ? [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)] : []),
  ];
  for (const [name, why] of Object.entries(t.skipped)) out.push(`${name}: ${why}`);
  return out.join("\n") + printFlow(t) + printTracing(t) + printMonitor(t);
}

/** The monitor's reads at volume: per path, the timed calls' median, p95 and max, against the target on p95. */
function printMonitor(t: TierReport): string {
  const m = t.monitor;
  if (!m) return "";
  return [`\nmonitor at ${fmt(m.events)} events (seeded in ${fmt(m.seedSeconds)} s), ${m.calls} calls a path after a warm-up, over HTTP as an admin (load average ${fmt(m.load[0], 1)} → ${fmt(m.load[1], 1)}), ${t.postgres}`, ...table([
    ["GET event-monitor", "median ms", "p95 ms", "max ms", "target", ""],
    ...m.paths.map((p) => [p.path, fmt(p.median, 1), fmt(p.p95, 1), fmt(p.max, 1), `p95 < ${m.targetMs} ms`, p.p95 < m.targetMs ? "holds" : "MISSED"]),
  ])].join("\n");
}

/** Issue 16's rows: the drain with an OpenTelemetry SDK in the dispatchers and a metrics scrape, against the drain without. */
function printTracing(t: TierReport): string {
  const plain = t.drain.feyxa?.map((d) => d.runsPerSecond);
  const rows = ([["feyxa-traced", "every trace recorded"], ["feyxa-traced-10%", "one trace in ten recorded"]] as const)
    .map(([name, what]) => ({ name, what, runs: t.drain[name]?.map((d) => d.runsPerSecond) }))
    .filter((row) => row.runs?.length);
  if (!rows.length || !plain?.length) return "";
  return [`\nobservability (issue 16), ${t.postgres}`, ...table([
    ["drain, handler runs/s (median of rounds)", "runs/s", "ratio per round: median (min–max)", "bound", ""],
    ["feyxa, no SDK, no scrape", spread(plain), "", "", ""],
    ...rows.map(({ name, what, runs }) => {
      const r = perRound(runs, plain);
      return [`${name}: SDK registered, ${what}, metrics scraped every second`, spread(runs!), `/ feyxa: ${spread(r, 3)}`, ">= 0.90", median(r) >= 0.9 ? "holds" : "MISSED"];
    }),
    ...peerRows(t),
  ])].join("\n");
}

/** pg-boss with the same SDK, against pg-boss: the peer's own cost of tracing, for comparison (no bound of ours). */
function peerRows(t: TierReport): string[][] {
  const plain = t.drain["pg-boss"]?.map((d) => d.runsPerSecond);
  const traced = t.drain["pg-boss-traced"]?.map((d) => d.runsPerSecond);
  if (!plain?.length || !traced?.length) return [];
  return [
    ["pg-boss, no SDK", spread(plain), "", "", ""],
    ["pg-boss-traced: SDK registered, every trace recorded (a span per batch of 500)", spread(traced), `/ pg-boss: ${spread(perRound(traced, plain), 3)}`, "", ""],
  ];
}

/** Per round, a's figure over b's; their median and spread. */
const perRound = (a: number[] = [], b: number[] = []) => a.map((v, r) => v / b[r]).filter((x) => Number.isFinite(x));

/** Issue 14's rows: the drain without flow features against the base commit, with order and fairness on, and the fairness figure. */
export function printFlow(t: TierReport): string {
  const drain = Object.fromEntries(Object.entries(t.drain).map(([k, v]) => [k, v.map((d) => d.runsPerSecond)]));
  const base = Object.keys(drain).find((k) => k.startsWith("feyxa@"));
  const out: string[] = [];
  const verdict = (xs: number[], bound: number) => (xs.length ? (median(xs) >= bound ? "holds" : "MISSED") : "-");
  if (drain["feyxa-flow"] || base) {
    const rows: string[][] = [["drain, handler runs/s (median of rounds)", "runs/s", "ratio per round: median (min–max)", "bound", ""]];
    rows.push(["feyxa (working tree), no flow feature in use", spread(drain.feyxa), "", "", ""]);
    if (base) {
      const r = perRound(drain.feyxa, drain[base]);
      rows.push([`${base}, same workload`, spread(drain[base]), `working tree / ${base}: ${spread(r, 3)}`, ">= 0.95", verdict(r, 0.95)]);
    }
    if (drain["feyxa-flow"]) {
      const r = perRound(drain["feyxa-flow"], drain.feyxa);
      rows.push(["feyxa, every event ordered + tenant fairness on", spread(drain["feyxa-flow"]), `flow / plain: ${spread(r, 3)}`, ">= 0.70", verdict(r, 0.7)]);
    }
    for (const [name, label] of [["feyxa-ordered", "every event ordered, fairness off"], ["feyxa-fair", "tenant fairness on, unordered"]]) {
      if (drain[name]) rows.push([`feyxa, ${label}`, spread(drain[name]), `/ plain: ${spread(perRound(drain[name], drain.feyxa), 3)}`, "", ""]);
    }
    out.push(`\nflow control (issue 14), drain rows, ${t.postgres}`, ...table(rows));
  }
  const f = t.fairness;
  if (f.idle?.length || f.off?.length || f.on?.length) {
    const all = (m: FairnessMode) => (f[m] ?? []).flatMap((x) => x.latencies);
    const p99s = (m: FairnessMode) => (f[m] ?? []).map((x) => percentile(x.latencies, 99));
    const times = (m: FairnessMode) => (f[m] ?? []).map((x) => x.floodEmitMs / 1000);
    const rows: string[][] = [["B's emit-to-done, ms", "p50 (all rounds)", "p99 (all rounds)", "p99 per round: median (min–max)", "p99 vs idle (per round)", "A's flood emitted in, s", "bus empty after, s"]];
    for (const [m, label] of [["idle", "B alone, idle bus"], ["off", "A floods, fairness off"], ["on", "A floods, fairness on"]] as const) {
      if (!f[m]?.length) continue;
      const vsIdle = perRound(p99s(m), p99s("idle"));
      rows.push([label, fmt(percentile(all(m), 50), 1), fmt(percentile(all(m), 99), 1), spread(p99s(m), 1), m === "idle" ? "1" : `${spread(vsIdle, 1)} x`, m === "idle" ? "" : spread(times(m), 1), m === "idle" ? "" : spread((f[m] ?? []).map((x) => x.totalMs / 1000), 1)]);
    }
    out.push(`\nflow control (issue 14), fairness: tenant A floods, tenant B emits ${f.off?.[0]?.latencies.length ?? f.idle?.[0]?.latencies.length ?? 20} spread over A's emitting, ${t.postgres}`, ...table(rows));
  }
  return out.join("\n");
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  return [line(rows[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)];
}

/** The Supabase path: no dispatcher process, each system consumed by Edge Functions that pg_net and pg_cron call. */
function printSupabasePath(results: Record<string, SupabasePathResult>): string {
  const names = Object.keys(results);
  const ours = results["feyxa-edge"];
  const peer = results["pgmq-edge"];
  const vs = (f: (r: SupabasePathResult) => number, lowerIsBetter = false) =>
    ours && peer ? `${fmt(lowerIsBetter ? f(peer) / f(ours) : f(ours) / f(peer), 2)}x pgmq-edge${lowerIsBetter ? " (lower is better)" : ""}` : "-";
  const row = (label: string, f: (r: SupabasePathResult) => number, digits = 0, lowerIsBetter = false) =>
    [label, ...names.map((n) => fmt(f(results[n]), digits)), vs(f, lowerIsBetter)];
  const rate = ours?.latency ?? peer?.latency;
  return [`\nSupabase path: Debian PostgreSQL 15 with pg_net and pg_cron, the functions on Deno, no worker process`, ...table([
    ["", ...names, "feyxa vs pgmq"],
    row(`burst of ${ours?.burst.events ?? peer?.burst.events} events committed at once: events/s to the last handler run`, (r) => r.burst.eventsPerSecond),
    row(`${rate?.eventsPerSecond} events/s for ${rate?.seconds} s: latency p50 ms`, (r) => r.latency.p50, 1, true),
    row("  p95 ms", (r) => r.latency.p95, 1, true),
    row("  p99 ms", (r) => r.latency.p99, 1, true),
    row("  events/s the producer sustained", (r) => r.latency.emittedPerSecond),
  ])].join("\n");
}

export function printReport(r: Report, systems: string[]): void {
  console.log(`\n${r.cores} cores (${r.cpu}), Node ${r.node}${r.quick ? ", QUICK mode (smoke run: small figures, not for comparison)" : ""}; ` +
    `medians of alternating rounds, (min–max) their spread; this machine moves ±25 % run to run: compare ratios within one table, not figures across runs`);
  console.log(`settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  for (const tier of r.tiers) console.log(printTier(tier, systems.filter((s) => tier.drain[s] || tier.emit[s] || tier.latency[s])));
  if (r.supabasePath) console.log(printSupabasePath(r.supabasePath));
  for (const why of r.skippedTiers) console.log(why);
  console.log("");
  for (const [name, tuning] of Object.entries(r.tuning)) console.log(`${name}: ${tuning}`);
}

export async function saveReport(r: Report): Promise<string> {
  const dir = new URL("../../bench-results/", import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  const file = `${dir}bench-${r.at.replaceAll(":", "-").replace(/\..+/, "")}.json`;
  const text = JSON.stringify(r, null, 2);
  await writeFile(file, text);
  await writeFile(`${dir}latest.json`, text);
  return file;
}
