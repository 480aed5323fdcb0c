/** Dispatcher processes (npm run dispatcher) for the fault tests: start them, kill them. */
import { type ChildProcess, spawn } from "node:child_process";
import { onTestFinished } from "vitest";

const root = new URL("../../../", import.meta.url).pathname;

export interface DispatcherProcess {
  child: ChildProcess;
  ready: Promise<void>;
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
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("dispatcher ready") && resolve());
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
