/**
 * `npm start` for real: a child process boots the embedded PostgreSQL, migrates, serves
 * the gateway, and on SIGINT shuts down cleanly; a second start keeps the events. Its
 * settings (src/bus/settings.ts) apply, a bad one stops it, and one that does not apply
 * to it is named.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/test-postgres.ts";

const root = new URL("../../", import.meta.url).pathname;

async function start(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/local/start.ts"], {
    cwd: root, env: { ...process.env, DATABASE_URL: "", ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not become ready:\n${output}`)), 60_000);
    child.stdout!.on("data", () => output.includes("ready.") && (clearTimeout(timer), resolve()));
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`npm start exited ${code}:\n${output}`))));
  });
  return { child, output: () => output };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGINT");
  });
}

describe("npm start", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("brings the bus up, serves process-event, stops on Ctrl-C, and keeps events across restarts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "feyxa-start-"));
    await chmod(dir, 0o755);
    dirs.push(dir);
    const env = {
      FEYXA_DATA_DIR: join(dir, "postgres"),
      FEYXA_PG_PORT: String(await freePort()),
      FEYXA_GATEWAY_PORT: String(await freePort()),
      FEYXA_SECRET_KEY: "sb_secret_start_test_key",
      // The dispatcher's claiming applies to npm start's dispatcher too; the metrics' host is npm run dispatcher's only.
      FEYXA_POLL_MS: "500", FEYXA_BATCH_SIZE: "10", FEYXA_CONCURRENCY: "3", FEYXA_METRICS_HOST: "0.0.0.0",
    };
    const url = `http://localhost:${env.FEYXA_GATEWAY_PORT}/functions/v1/process-event`;

    const first = await start(env);
    expect(first.output()).toContain("/functions/v1/process-event");
    const ping = { event_type: "test.ping", aggregate_type: "test", aggregate_id: crypto.randomUUID(), payload: {}, idempotency_key: "start-ping" };
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", apikey: "sb_secret_start_test_key" },
      body: JSON.stringify(ping),
    });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({ status: "completed", handlers: [] }); // nothing subscribes to test.ping
    // The printed monitor link signs in as the local admin, and the page is served.
    const link = /monitor {6}(http:\S+\/monitor\/)#access_token=(\S+)/.exec(first.output());
    expect(link).not.toBeNull();
    expect((await fetch(link![1])).headers.get("content-type")).toMatch(/text\/html/);
    const me = await fetch(url.replace("process-event", "event-monitor/me"), { headers: { authorization: `Bearer ${link![2]}` } });
    expect(await me.json()).toMatchObject({ email: "admin@feyxa.local", is_admin: true });
    // Its dispatcher reports alive, with the machine's name: the health verdict's uptime check answers 200.
    const health = await fetch(url.replace("process-event", "metrics/health"), { headers: { apikey: "sb_secret_start_test_key" } });
    expect(health.status).toBe(200);
    expect((await health.json()).workers.recent).toContainEqual(expect.objectContaining({ role: "dispatcher", runtime: "node", host: hostname(), live: true }));
    expect(await stop(first.child)).toBe(0);
    // The banner is plain lines; the process's notable events are JSON lines, each an object.
    const logLines = first.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logLines.map((l) => l.msg)).toEqual(expect.arrayContaining(["start", "stop", "stopped"]));
    expect(logLines.find((l) => l.msg === "start")).toMatchObject({ level: "info", process: "local", worker: expect.any(String), pid: first.child.pid });
    expect(logLines.find((l) => l.msg === "stop")).toMatchObject({ level: "info", signal: "SIGINT" }); // stop() sends what Ctrl-C does
    expect(first.output()).toContain("polling every 0.5 s, claiming 10 × 3");
    expect(first.output()).toContain("retry-failed-events every 30 s; automation polls every 1 min; alert rules every 1 min; stats fold every 1 min; retention purge every 10 min; idempotency keys purge every 10 min");
    const ignored = logLines.filter((l) => l.msg === "setting ignored");
    expect(ignored).toContainEqual(expect.objectContaining({ level: "warn", setting: "FEYXA_METRICS_HOST", reason: "applies to npm run dispatcher, not to npm start" }));
    expect(ignored.map((l) => l.setting)).not.toContain("FEYXA_POLL_MS");

    const second = await start(env);
    expect(second.output()).toContain("migrations   up to date");
    const again = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", apikey: "sb_secret_start_test_key" },
      body: JSON.stringify(ping),
    });
    expect(await again.json()).toMatchObject({ event_id: created.event_id, duplicate: true });
    expect(await stop(second.child)).toBe(0);
  }, 120_000);

  it("refuses a bad setting before it starts anything, naming it and its range", async () => {
    await expect(start({ FEYXA_LEASE_MS: "soon", FEYXA_GATEWAY_PORT: "0" })).rejects.toThrow(
      /exited 1:[\s\S]*FEYXA_LEASE_MS must be a whole number from 1,000 to 3,600,000 \(ms\) \(got \\"soon\\"\); FEYXA_GATEWAY_PORT must be a whole number from 1 to 65,535/);
  });
});
