/**
 * A database outage seen from the gateway (node:http, the functions, a dispatcher on the
 * same pool, as npm start runs them): every request fails fast, 503 with retry-after,
 * none hangs, and both recover by themselves when the database is back. Two outages: the
 * server stopped (connections refused, open ones closed), and a silent host (a proxy that
 * stops answering on open connections and accepts new ones without a word, as a host gone
 * from the network does: no RST, so TCP alone would wait for minutes).
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { DatabaseUnresponsiveError } from "../../src/bus/bounded-sql.ts";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { databaseBounds, openPool, poolOptions } from "../../src/bus/database-options.ts";
import { toHttpError } from "../../src/bus/errors.ts";
import type { Sql } from "../../src/bus/types.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { migrate } from "../../src/local/migrate.ts";
import { serveNode } from "../../src/local/node-http.ts";
import { type Database, startEmbeddedPostgres } from "../../src/local/postgres.ts";
import { serverFunctions } from "../support/auth.ts";
import { countingHandler, subscribe, testBus, uuid } from "../support/bus.ts";
import { freePort } from "../support/test-postgres.ts";
import { sleep } from "./support/processes.ts";

// Short bounds keep the test short; the defaults are 5 s / 10 s / 5 s (database-options.ts).
const bounds = databaseBounds({ FEYXA_DB_CONNECT_TIMEOUT_MS: "2000", FEYXA_DB_STATEMENT_TIMEOUT_MS: "2000", FEYXA_DB_QUEUE_TIMEOUT_MS: "2000" });
/** The longest any request may take during an outage: the longest bound, a sweep, and slack for a busy machine. */
const ANSWER_WITHIN_MS = Math.max(bounds.connectMs, bounds.queueMs, bounds.answerMs) + 3_000;
const OUTAGE_MS = 6_000;

/** A TCP proxy to the database that can go silent: it stops relaying, and accepts new connections without a word. */
async function silentableProxy(target: number) {
  let silent = false;
  const pairs = new Set<[Socket, Socket | undefined]>();
  const held: Socket[] = [];
  const relay = (client: Socket) => {
    const server = new Socket();
    const pair: [Socket, Socket | undefined] = [client, server];
    pairs.add(pair);
    server.connect(target, "127.0.0.1");
    client.pipe(server).pipe(client);
    const drop = () => (client.destroy(), server.destroy(), pairs.delete(pair));
    client.on("error", drop).on("close", drop);
    server.on("error", drop).on("close", drop);
  };
  const proxy: Server = createServer((client) => (silent ? (held.push(client.pause()), client.on("error", () => {})) : relay(client)));
  const port = await freePort();
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  return {
    port,
    silence() {
      silent = true;
      for (const [client, server] of pairs) client.pause(), server?.pause();
    },
    answer() {
      silent = false;
      for (const [client, server] of pairs) client.resume(), server?.resume();
      // Held connections were accepted and never answered: their clients gave up (connect timeout).
      for (const client of held.splice(0)) client.destroy();
    },
    close: () => new Promise<void>((resolve) => (proxy.close(() => resolve()), pairs.forEach(([c, s]) => (c.destroy(), s?.destroy())))),
  };
}

interface Answer { status: number | "hung"; ms: number; retryAfter: string | null }

let dir: string;
let port: number;
let pg: Database;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "feyxa-outage-"));
  await chmod(dir, 0o755);
  port = await freePort();
  pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port, persistent: true });
  const sql = openPool(pg.url, bounds, { max: 1 });
  await migrate(sql);
  await subscribe(sql, "outage.event", "outage.work");
  await sql.end();
}, 60_000);
afterAll(async () => {
  await pg.stop().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

/** npm start's shape: one pool for the gateway and a dispatcher, the gateway over node:http. */
async function gatewayOn(url: string) {
  const sql: Sql = openPool(url, bounds, { max: 20 });
  const work = countingHandler("outage.work");
  const bus = testBus(sql, [work.handler]);
  const dispatcher = new Dispatcher(bus, { pollIntervalMs: 200, onError: () => {} });
  await dispatcher.start();
  const gatewayPort = await freePort();
  const server = await serveNode(createGateway(serverFunctions(bus)), gatewayPort);
  const emit = async (): Promise<Answer & { eventId?: string }> => {
    const started = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${gatewayPort}/functions/v1/process-event`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ event_type: "outage.event", aggregate_type: "test", aggregate_id: uuid(), payload: {} }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await res.json();
      return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get("retry-after"), eventId: body.event_id };
    } catch {
      return { status: "hung", ms: performance.now() - started, retryAfter: null };
    }
  };
  /** Requests every 80 ms while `during` runs (the outage), then their answers. */
  const load = async (during: Promise<unknown>) => {
    const answers: Promise<Answer>[] = [];
    let over = false;
    void during.finally(() => (over = true));
    while (!over) {
      answers.push(emit());
      await sleep(80);
    }
    return await Promise.all(answers);
  };
  const stop = async () => {
    await dispatcher.stop();
    await new Promise((resolve) => server.close(resolve));
    await sql.end({ timeout: 1 });
  };
  return { sql, work, emit, load, stop };
}

/** What every outage must leave: each request answered in time, 503 with retry-after or accepted, none hung. */
function expectFailedFast(answers: Answer[]) {
  const summary = { requests: answers.length, "503": answers.filter((a) => a.status === 503).length, slowestMs: Math.round(Math.max(...answers.map((a) => a.ms))) };
  console.log("outage:", JSON.stringify(summary));
  expect(answers.length).toBeGreaterThan(40);
  expect(answers.filter((a) => a.status === "hung")).toEqual([]);
  expect(answers.filter((a) => a.status !== 503 && a.status !== 201 && a.status !== 202)).toEqual([]);
  expect(answers.filter((a) => a.status === 503 && !a.retryAfter)).toEqual([]);
  expect(answers.filter((a) => a.ms > ANSWER_WITHIN_MS)).toEqual([]);
  expect(summary["503"]).toBeGreaterThan(answers.length / 2);
}

/** After the outage, emits are accepted again and the dispatcher runs them, with no restart. */
async function expectRecovered(gateway: Awaited<ReturnType<typeof gatewayOn>>) {
  await expect.poll(async () => (await gateway.emit()).status, { timeout: 10_000, interval: 200 }).toBe(201);
  // One after another: on a machine busy with other test files, 20 at once could meet the
  // test's 2 s queue bound, which is the bound working, not the pool failing to recover.
  const after: Awaited<ReturnType<typeof gateway.emit>>[] = [];
  for (let i = 0; i < 10; i++) after.push(await gateway.emit());
  // 202: stored, and its processing met a 503 (the dispatcher takes it up).
  expect(after.filter((a) => a.status !== 201 && a.status !== 202)).toEqual([]);
  await expect.poll(() => after.every((a) => gateway.work.runs.has(a.eventId!)), { timeout: 10_000, interval: 100 }).toBe(true);
}

describe("a database outage under load", () => {
  it("with the server stopped, every request is answered 503 with retry-after within the connect bound, and the gateway and dispatcher recover by themselves", async () => {
    const gateway = await gatewayOn(pg.url);
    try {
      expect((await gateway.emit()).status).toBe(201);
      const outage = (async () => {
        await pg.stop();
        await sleep(OUTAGE_MS);
        pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port, persistent: true });
      })();
      expectFailedFast(await gateway.load(outage));
      await expectRecovered(gateway);
    } finally {
      await gateway.stop();
    }
  }, 60_000);

  it("with the host silent (no answer, no reset), every request is answered 503 with retry-after within the statement bound, and all recover when it answers again", async () => {
    const proxy = await silentableProxy(port);
    const url = new URL(pg.url);
    url.port = String(proxy.port);
    const gateway = await gatewayOn(url.toString());
    try {
      // Open connections first, so that the outage finds queries sent on them and waiting in the pool.
      expect((await Promise.all(Array.from({ length: 20 }, () => gateway.emit()))).every((a) => a.status === 201)).toBe(true);
      proxy.silence();
      expectFailedFast(await gateway.load(sleep(OUTAGE_MS)));
      proxy.answer();
      await expectRecovered(gateway);
    } finally {
      proxy.answer();
      await gateway.stop();
      await proxy.close();
    }
  }, 60_000);
});

describe("the pool's own bounds", () => {
  it("a query given up while it waited for a connection is answered 503 and never written later, and the pool stays whole", async () => {
    const short = { ...bounds, queueMs: 300 };
    const sql = openPool(pg.url, short, { max: 1 });
    const table = `given_up_${uuid().slice(0, 8)}`;
    try {
      await sql.unsafe(`create table ${table} (n int)`);
      // A transaction holds the only connection: a query then waits in the pool's queue.
      const holder = sql.begin((tx) => tx`select pg_sleep(1.5)`).then(() => "done");
      await sleep(100);
      const queued = await sql.unsafe(`insert into ${table} values (1)`).then(() => undefined, (error: unknown) => error);
      expect(queued).toBeInstanceOf(DatabaseUnresponsiveError);
      expect(toHttpError(queued).status).toBe(503);
      expect(await holder).toBe("done");
      // The connection took the given-up query after pg_sleep; it ran as a no-op, and the
      // pool's one connection still serves (postgres.js's cancel() would have left it stuck).
      expect((await sql.unsafe(`select count(*)::int as n from ${table}`))[0].n).toBe(0);
      await sql.unsafe(`drop table ${table}`);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it("a pool sends the statement, lock and idle-in-transaction timeouts in its startup packet, and none through a transaction pooler", async () => {
    const sql = postgres(pg.url, poolOptions(bounds, { max: 1 }));
    try {
      const rows = await sql`select name, setting::int as ms from pg_settings
        where name in ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout') order by name`;
      expect(rows.map((r) => [r.name, r.ms])).toEqual([
        ["idle_in_transaction_session_timeout", bounds.answerMs], ["lock_timeout", bounds.lockMs], ["statement_timeout", bounds.statementMs],
      ]);
    } finally {
      await sql.end({ timeout: 1 });
    }
    expect(poolOptions(bounds, { max: 1, pooler: true })).toMatchObject({ prepare: false, connection: {} });
  });
});
