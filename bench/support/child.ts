/**
 * A worker process of the bench (our dispatcher CLI, or a peer's worker script): started
 * with `node` (`--import tsx` for TypeScript) so that its pid is the process doing the work, ready once it
 * prints a line containing "ready", stopped with SIGTERM (SIGKILL after a bound).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

export interface WorkerProcess {
  pid: number;
  /** The last 10 kB the process printed. */
  output(): string;
  /** The process's peak resident set so far (VmHWM), in MB. */
  peakRssMb(): number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** Starts `script` with node: through tsx for TypeScript, as is for plain JavaScript (.js, .mjs). */
export async function startWorker(script: string, env: Record<string, string>): Promise<WorkerProcess> {
  // BENCH_NODE_ARGS: extra node flags for the workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const args = [...extra, ...(/\.m?js$/.test(script) ? [script] : ["--import", "tsx", script])];
  // BENCH_WORKER_NODE: another node binary for the workers (a newer release, to compare).
  const child: ChildProcess = spawn(process.env.BENCH_WORKER_NODE ?? process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
    child.stdout!.on("data", (chunk: Buffer) => {
      output = (output + chunk).slice(-10_000);
      if (/ready/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      output = (output + chunk).slice(-10_000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
    });
    void exited.then(() => reject(new Error(`${script} exited before it was ready:\n${output}`)));
  });
  return {
    pid: child.pid!,
    output: () => output,
    peakRssMb: () => peakRssMb(child.pid!),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function stopAll(workers: WorkerProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}
