/** Time, pacing and percentiles for the workloads: every loop is bounded by a count and a deadline. */
import { readFileSync } from "node:fs";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every intervalMs until it says true; throws after timeoutMs. Returns the elapsed ms. */
export async function waitUntil(done: () => Promise<boolean>, timeoutMs: number, intervalMs = 20, startedAt = performance.now()): Promise<number> {
  for (;;) {
    if (await done()) return performance.now() - startedAt;
    if (performance.now() - startedAt > timeoutMs) throw new Error(`not done after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Runs `connections` loops of `operation` for durationMs; returns how many operations completed per second. */
export async function ratePerSecond(connections: number, durationMs: number, operation: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < deadline) await operation(done++);
  }));
  return done / ((performance.now() - startedAt) / 1000);
}

/** The p-th percentile (0..100) of the values, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A process's CPU time so far, in microseconds (utime + stime from /proc, in clock ticks of 10 ms): the diagnostics' steadier measure than wall time. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
