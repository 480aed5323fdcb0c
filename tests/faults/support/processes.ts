/** Dispatcher processes (npm run dispatcher) for the fault tests: start them, kill them. */
import { type ChildProcess, spawn } from "node:child_process";
import { onTestFinished } from "vitest";
import type { Sql } from "../../../src/bus/types.ts";

const root = new URL("../../../", import.meta.url).pathname;

export interface DispatcherProcess {
  child: ChildProcess;
  /** Resolves once it listens, with its bus worker id (`dispatcher:<uuid>`, the locked_by of what it holds). */
  ready: Promise<string>;
  exited: Promise<number | null>;
}

export function startDispatcher(databaseUrl: string, env: Record<string, string> = {}): DispatcherProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/local/dispatcher.ts"], {
    cwd: root,
    env: {
      ...process.env, DATABASE_URL: databaseUrl, FEYXA_HANDLERS: "tests/faults/support/handlers.ts",
      FEYXA_LEASE_MS: "1500", FEYXA_POLL_MS: "100", FEYXA_BATCH_SIZE: "20", ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr!.on("data", (d) => (output += d));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      const started = /dispatcher ready: (\S+),/.exec(String(d));
      if (started) resolve(started[1]);
    });
    child.once("exit", (code) => reject(new Error(`dispatcher exited ${code} before ready: ${output}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, ready, exited };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Kill {
  /** How many events the victim held (its queue rows) when it was killed: > 0 is mid-batch. */
  held: number;
}

/**
 * `size` dispatcher processes, each replaced by a fresh one as soon as it is killed.
 * `killOne()` kills -9 a random ready one, at whatever point of its work it is.
 */
export function dispatcherPool(databaseUrl: string, size: number, env: Record<string, string> = {}, random: () => number = Math.random) {
  const slots = Array.from({ length: size }, () => started(databaseUrl, env));
  const kills: Kill[] = [];
  return {
    kills,
    ready: () => Promise.all(slots.map((s) => s.process.ready)),
    async killOne(sql: Sql): Promise<boolean> {
      const ready = slots.filter((s) => s.workerId !== undefined);
      if (ready.length === 0) return false;
      const slot = ready[Math.floor(random() * ready.length)];
      slot.process.child.kill("SIGKILL");
      await slot.process.exited;
      const [{ held }] = await sql<{ held: number }[]>`select count(*)::int as held from feyxa.event_queue where locked_by = ${slot.workerId!}`;
      kills.push({ held });
      slots[slots.indexOf(slot)] = started(databaseUrl, env);
      return true;
    },
    stop: () => Promise.all(slots.map(async ({ process }) => {
      process.child.kill("SIGKILL");
      await process.exited;
    })),
  };
}

function started(databaseUrl: string, env: Record<string, string>): { process: DispatcherProcess; workerId?: string } {
  const slot: { process: DispatcherProcess; workerId?: string } = { process: startDispatcher(databaseUrl, env) };
  slot.process.ready.then((id) => (slot.workerId = id), () => {});
  return slot;
}
