/** The bench's output: one table (ours, each peer, the ratio against the best peer, the target) and a JSON file. */
import { mkdir, writeFile } from "node:fs/promises";
import type { DrainResult } from "../workloads/drain.ts";
import type { LatencyResult } from "../workloads/latency.ts";

export interface Report {
  at: string;
  cores: number;
  cpu: string;
  node: string;
  postgres: string;
  tuning: Record<string, string>;
  drain: Record<string, DrainResult>;
  emit: Record<string, number>;
  emitBatch: Record<string, number>;
  plainInsert?: number;
  latency: Record<string, LatencyResult>;
  scale: DrainResult[];
  seconds: number;
}

const PEERS = ["pg-boss", "graphile-worker"];
const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? "-" : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Ours divided by the best peer's figure (for "lower is better" figures, the best peer's divided by ours). */
function ratio(values: Record<string, number | undefined>, higherIsBetter: boolean): number | undefined {
  const peers = PEERS.map((p) => values[p]).filter((v): v is number => v !== undefined);
  const ours = values.feyxa;
  if (ours === undefined || peers.length === 0) return undefined;
  return higherIsBetter ? ours / Math.max(...peers) : Math.min(...peers) / ours;
}

type Row = [string, Record<string, number | undefined>, boolean, string, number?];

function rows(r: Report): Row[] {
  const pick = <T>(o: Record<string, T>, f: (t: T) => number) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
  const scale = Object.fromEntries(r.scale.map((s) => [s.processes, s.runsPerSecond]));
  return [
    ["drain: handler runs/s", pick(r.drain, (d) => d.runsPerSecond), true, ">= 2x best peer"],
    ["emit, 1 event/call, 16 conns: events/s", r.emit, true, ">= 0.8x plain INSERT", r.plainInsert],
    ["emit batched (100/call): events/s", r.emitBatch, true, ">= best peer"],
    ["latency p50 ms", pick(r.latency, (l) => l.p50), false, ""],
    ["latency p95 ms", pick(r.latency, (l) => l.p95), false, ""],
    ["latency p99 ms", pick(r.latency, (l) => l.p99), false, "<= 50 ms"],
    ["worker peak RSS MB (drain)", pick(r.drain, (d) => d.peakRssMb), false, "<= 150 MB"],
    ["scale: 1 / 2 / 4 dispatchers, runs/s", { feyxa: scale[1] }, true, "2 >= 1.6x 1"],
  ].map(([label, values, higher, target, extra]) => [label, values, higher, target, extra] as Row);
}

export function printReport(r: Report): void {
  const header = ["", "feyxa", ...PEERS, "feyxa vs best peer", "target"];
  const body = rows(r).map(([label, values, higher, target, ceiling]) => {
    const digits = label.includes("ms") ? 1 : 0;
    let ours = fmt(values.feyxa, digits);
    let vs = fmt(ratio(values, higher), 2) + "x";
    if (ceiling !== undefined) vs += ` (plain INSERT ${fmt(ceiling)}: ${fmt((values.feyxa ?? NaN) / ceiling, 2)}x)`;
    if (label.startsWith("scale")) {
      const s = r.scale;
      ours = s.map((d) => fmt(d.runsPerSecond)).join(" / ");
      vs = s.length > 1 ? `2 vs 1: ${fmt(s[1].runsPerSecond / s[0].runsPerSecond, 2)}x` : "-";
    }
    return [label, ours, ...PEERS.map((p) => fmt(values[p], digits)), vs, target];
  });
  const table = [header, ...body];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  console.log(`\n${r.postgres}, ${r.cores} cores (${r.cpu}), Node ${r.node}, ${r.seconds} s`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of body) console.log(line(row));
  const l = r.latency.feyxa;
  if (l) console.log(`latency run: ${l.eventsPerSecond} events/s for ${l.seconds} s (${l.events} events per system)`);
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
