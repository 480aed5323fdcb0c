/**
 * The database goes away: restarted under load, or refusing connections. The bus
 * reconnects by itself and loses nothing; the gateway answers 503 with a retry hint
 * meanwhile and writes nothing half.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { describe, expect, it, onTestFinished } from "vitest";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { databaseBounds, openPool } from "../../src/bus/database-options.ts";
import { toHttpError } from "../../src/bus/errors.ts";
import { serverFunctions } from "../support/auth.ts";
import { migrate } from "../../src/local/migrate.ts";
import { startEmbeddedPostgres } from "../../src/local/postgres.ts";
import { useDatabase } from "../support/database.ts";
import { countingHandler, subscribe, testBus, uuid } from "../support/bus.ts";
import { freePort } from "../support/test-postgres.ts";
import { sleep } from "./support/processes.ts";

describe("PostgreSQL restarted under load", () => {
  it("the dispatcher and the gateway reconnect by themselves and finish the backlog", async () => {
    const dir = await mkdtemp(join(tmpdir(), "feyxa-restart-"));
    await chmod(dir, 0o755);
    const port = await freePort();
    let pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port, persistent: true });
    const sql = openPool(pg.url, databaseBounds({ FEYXA_DB_CONNECT_TIMEOUT_MS: "2000" }), { max: 6 });
    onTestFinished(async () => {
      await sql.end({ timeout: 1 });
      await pg.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    });
    await migrate(sql);
    const h = countingHandler("restart.work");
    await subscribe(sql, "restart.event", "restart.work");
    const bus = testBus(sql, [h.handler]);
    const dispatcher = new Dispatcher(bus, { pollIntervalMs: 100, onError: () => {} });
    await dispatcher.start();
    const processEvent = serverFunctions(bus)["process-event"];
    const post = () => processEvent(new Request("http://x/", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ event_type: "restart.event", aggregate_type: "test", aggregate_id: uuid(), payload: {} }),
    }));

    const accepted: string[] = [];
    const statuses: number[] = [];
    let restarting = false;
    const load = (async () => {
      for (let i = 0; i < 300; i++) {
        const res = await post();
        statuses.push(res.status);
        if (res.status === 201 || res.status === 202) accepted.push((await res.json()).event_id);
        else {
          expect(res.status).toBe(503);
          expect(res.headers.get("retry-after")).toBeTruthy();
          await res.body?.cancel();
        }
        await sleep(restarting ? 50 : 10);
      }
    })();

    await sleep(500);
    restarting = true;
    await pg.stop();
    await sleep(1_500);
    pg = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port, persistent: true });
    const restartedAt = new Date();
    restarting = false;
    await load;

    // Requests during the outage either waited for the reconnection or got a 503 (checked
    // above); either way the same pools served emits again after the restart, by themselves.
    const [{ after }] = await sql`select count(*)::int as after from feyxa.events_log where created_at > ${restartedAt}`;
    expect(after).toBeGreaterThan(0);
    // Every stored event completes. (A 503 can also come after the emit committed, when the
    // connection broke before the answer: that event is stored and completes too; a client
    // that must know retries with an idempotency key. So: accepted ⊆ stored, all completed.)
    await expect.poll(async () => {
      const [r] = await sql`select count(*) filter (where status <> 'completed')::int as open from feyxa.events_log`;
      return r.open;
    }, { timeout: 30_000, interval: 200 }).toBe(0);
    const stored = new Set((await sql`select id from feyxa.events_log`).map((r) => r.id as string));
    expect(accepted.filter((id) => !stored.has(id))).toEqual([]);
    expect(stored.size - accepted.length).toBeLessThanOrEqual(statuses.filter((x) => x === 503).length);
    for (const id of accepted) expect(h.runs.get(id)).toBeGreaterThanOrEqual(1);
    console.log(`restart under load: ${accepted.length} accepted and completed, ${statuses.filter((s) => s === 503).length} answered 503 during the outage`);
    await dispatcher.stop();
  }, 90_000);
});

const db = await useDatabase();

describe("the database refuses connections", () => {
  it("emits through the gateway answer 503 with a retry hint, and nothing is written", async () => {
    const role = `limited_${uuid().slice(0, 8)}`;
    await db.sql.unsafe(`create role ${role} login password 'limited' connection limit 0; grant service_role to ${role}`);
    onTestFinished(async () => void (await db.sql.unsafe(`drop role if exists ${role}`)));
    const url = new URL(db.url);
    url.username = role;
    url.password = "limited";
    const refused = postgres(url.toString(), { max: 1, onnotice: () => {}, connect_timeout: 2 });
    const res = await serverFunctions(testBus(refused, []))["process-event"](new Request("http://x/", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ event_type: "refused.event", aggregate_type: "test", aggregate_id: uuid(), payload: {} }),
    }));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect((await db.sql`select count(*)::int as n from feyxa.events_log where event_type = 'refused.event'`)[0].n).toBe(0);
    await refused.end({ timeout: 1 });
  });
});

describe("what counts as the database being unavailable", () => {
  // Everything a refused, dropped, silent, restarting or overloaded database raises, as
  // postgres.js and the server report it. Each is worth a retry, so each is a 503 with a hint.
  const unavailable = [
    "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN",
    "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED",
    "08000", "08003", "08006", "08001", "08004", "08P01",
    "53300", "57P01", "57P02", "57P03", "57014", "55P03",
  ];
  it.each(unavailable)("%s is answered 503 with retry-after", (code) => {
    const answer = toHttpError(Object.assign(new Error("boom"), { code }));
    expect([answer.status, answer.code, answer.headers["retry-after"]]).toEqual([503, "unavailable", "2"]);
  });
  it("a value the database refuses is a 400 (a unique key taken, a 409), naming the field where it can", () => {
    const answer = (e: object) => toHttpError(Object.assign(new Error("refused"), e));
    expect(answer({ code: "22021" }).status).toBe(400); // a NUL byte
    expect(answer({ code: "22003", column_name: "quantity" }).body()).toEqual({ error: "invalid_request", message: "refused", field: "quantity" });
    expect(answer({ code: "22023", detail: "payload" }).field).toBe("payload");
    expect(answer({ code: "23503" }).status).toBe(400);
    expect(answer({ code: "23505" }).status).toBe(409);
    expect(answer({ code: "42501" }).status).toBe(403); // not an admin; RLS or a grant refused the caller
  });
  it("a bug is still a 500 that leaks nothing", () => {
    expect(toHttpError(Object.assign(new Error("column x does not exist"), { code: "42703" })).status).toBe(500);
  });
});
