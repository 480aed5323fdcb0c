/**
 * The health verdict against the database (supabase/schemas/bus/health.sql, src/bus/heartbeats.ts,
 * src/bus/telemetry/health.ts): who reports a heartbeat and when, how stale ones age out, each
 * fact of feyxa.health_facts and the verdict it makes, the bounds as bus settings; and where
 * it is served: GET /functions/v1/metrics/health (the server key only; 503 when down),
 * feyxa_health in /metrics, GET /event-monitor/health (operators, as themselves), and who
 * may read it in the database.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/bus/dispatcher.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { readHealth } from "../../../src/bus/telemetry/health.ts";
import { createFunctions } from "../../../src/marketplace/functions/index.ts";
import { asApiRole } from "../../support/as-role.ts";
import { TEST_SECRET_KEY, testAuth, token } from "../../support/auth.ts";
import { emitTest, markDead, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { parsePrometheusText, valueOf } from "../../support/prometheus.ts";
import { defineHandler } from "../../../src/bus/define-handler.ts";

const { sql } = await useDatabase();
await subscribe(sql, "vital.*", "vital.ok");
const handlers = [defineHandler("vital.ok", async () => {})];
const bus = testBus(sql, handlers, { where: { runtime: "node", host: "test-host" } });
const gateway = createGateway(createFunctions(bus, undefined, testAuth, () => ({ FEYXA_METRICS_CACHE_MS: "0", FEYXA_METRICS_SETTLE_MS: "0" })));
const call = (path: string, headers: Record<string, string> = { apikey: TEST_SECRET_KEY }, init: RequestInit = {}) =>
  gateway(new Request(`http://localhost:54321/functions/v1/${path}`, { headers, ...init }));
const heartbeats = () => sql<{ worker: string; role: string; runtime: string; host: string | null; in_flight: number; started_at: Date; last_seen: Date }[]>`
  select worker, role, runtime, host, in_flight, started_at, last_seen from feyxa.worker_heartbeats order by role, worker`;

beforeEach(async () => {
  await sql`delete from feyxa.worker_heartbeats`;
  await sql`delete from feyxa.event_queue`;
  await sql`update feyxa.event_bus_settings set health_silence = default, health_max_lag = default, health_dead_window = default`;
});

const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
});

describe("heartbeats", () => {
  it("a dispatcher reports when it starts and from a timer, with its host and in-flight count; its stop marks it stopped", async () => {
    const dispatcher = new Dispatcher(bus, { listen: false, pollIntervalMs: 50, heartbeatMs: 100 });
    dispatchers.push(dispatcher);
    await dispatcher.start();
    const [first] = await heartbeats();
    expect(first).toMatchObject({ worker: bus.workerId, role: "dispatcher", runtime: "node", host: "test-host", in_flight: 0 });
    await expect.poll(async () => (await heartbeats())[0]?.last_seen.getTime(), { timeout: 5_000 }).toBeGreaterThan(first.last_seen.getTime());
    expect((await heartbeats())[0].started_at).toEqual(first.started_at);
    await dispatcher.stop();
    const [stopped] = await sql`select stopped_at is not null as stopped, in_flight from feyxa.worker_heartbeats`;
    expect(stopped).toEqual({ stopped: true, in_flight: 0 });
    expect((await readHealth(sql)).workers).toMatchObject({ live: 0, recent: [{ role: "dispatcher", live: false }] });
    await dispatcher.start(); // reports again: running, started anew
    const [again] = await sql`select stopped_at, started_at from feyxa.worker_heartbeats`;
    expect(again.stopped_at).toBeNull();
    expect(again.started_at.getTime()).toBeGreaterThan(first.started_at.getTime());
  });

  it("the server's invocations of process-event and retry-failed-events report once per 5 s each, once done; anon's and refused ones do not", async () => {
    const fresh = testBus(sql, handlers);
    const functions = createGateway(createFunctions(fresh, undefined, testAuth));
    const send = (fn: string, body: unknown, headers: Record<string, string>) => functions(new Request(`http://localhost/functions/v1/${fn}`, {
      method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) }));
    expect((await send("process-event", { event_id: uuid() }, {})).status).toBe(404); // anon: no report
    expect((await send("retry-failed-events", { nonsense: 1 }, { apikey: TEST_SECRET_KEY })).status).toBe(400); // refused input: none
    expect((await send("process-event", { event_id: uuid() }, { apikey: TEST_SECRET_KEY })).status).toBe(404); // not found: none
    expect(await heartbeats()).toEqual([]);
    expect((await send("retry-failed-events", {}, { apikey: TEST_SECRET_KEY })).status).toBe(200);
    const event = { event_type: "vital.beat", aggregate_type: "test", aggregate_id: uuid() };
    expect((await send("process-event", event, { apikey: TEST_SECRET_KEY })).status).toBe(201);
    const rows = await heartbeats();
    expect(rows.map((r) => [r.role, r.runtime, r.worker])).toEqual([["process-event", "node", fresh.workerId], ["retry-failed-events", "node", fresh.workerId]]);
    // Within 5 s, another invocation writes nothing.
    expect((await send("retry-failed-events", {}, { apikey: TEST_SECRET_KEY })).status).toBe(200);
    expect((await heartbeats()).find((r) => r.role === "retry-failed-events")!.last_seen).toEqual(rows[1].last_seen);
  });

  it("an edge worker says so; a report forgets the workers silent for an hour, skipping none it must keep", async () => {
    await sql`insert into feyxa.worker_heartbeats (worker, role, runtime, started_at, last_seen)
              values ('process-event:old', 'process-event', 'edge', now() - interval '3 hours', now() - interval '61 minutes'),
                     ('process-event:recent', 'process-event', 'edge', now() - interval '3 hours', now() - interval '59 minutes')`;
    const edge = testBus(sql, handlers, { workerName: "process-event", where: { runtime: "edge" } });
    await edge.heartbeats.beat("process-event", 2);
    expect((await heartbeats()).map((r) => [r.worker, r.runtime, r.host, r.in_flight])).toEqual([
      [edge.workerId, "edge", null, 2], ["process-event:recent", "edge", null, 0]]);
  });

  it("a report that fails is dropped, said once, and retried at the next chance", async () => {
    const errors: unknown[] = [];
    const broken = testBus(sql, handlers, { onError: (e) => errors.push(e) });
    // A role the table refuses: every report fails, none throws.
    await broken.heartbeats.beat("Not A Role", 0);
    await broken.heartbeats.beat("Not A Role", 0);
    expect(errors).toHaveLength(1);
    expect(await heartbeats()).toEqual([]);
  });
});

describe("the facts and the verdict", () => {
  it("nothing due and no worker: healthy (idle); an event due with no worker: down; a worker reporting: healthy again", async () => {
    expect((await readHealth(sql)).status).toBe("healthy");
    await emitTest(bus, "vital.waiting");
    const down = await readHealth(sql);
    expect(down.status).toBe("down");
    expect(down.reasons.map((r) => r.code)).toEqual(["no_worker"]);
    expect(down.lag_seconds).toBeGreaterThanOrEqual(0);
    await bus.heartbeats.beat("dispatcher", 0, true);
    expect(await readHealth(sql)).toMatchObject({ status: "healthy", reasons: [], workers: { live: 1 } });
  });

  it("a worker silent for longer than health_silence no longer counts (the bound is a bus setting)", async () => {
    await emitTest(bus, "vital.waiting");
    await bus.heartbeats.beat("dispatcher", 0, true);
    await sql`update feyxa.worker_heartbeats set last_seen = now() - interval '30 seconds'`;
    expect((await readHealth(sql)).status).toBe("healthy");
    await sql`update feyxa.event_bus_settings set health_silence = '20 seconds'`;
    const health = await readHealth(sql);
    expect(health).toMatchObject({ status: "down", workers: { live: 0 }, thresholds: { silence_seconds: 20 } });
    expect(health.reasons[0].value).toBeGreaterThanOrEqual(30);
    expect(health.workers.recent).toMatchObject([{ role: "dispatcher", live: false }]);
  });

  it("the lag: the oldest due, unclaimed event at its real due time, a prioritised one too; over health_max_lag, degraded", async () => {
    await bus.heartbeats.beat("dispatcher", 0, true);
    const id = await emitTest(bus, "vital.late");
    await sql`update feyxa.event_queue set due_at = now() - interval '90 seconds' where event_id = ${id}`;
    // A prioritised event: due_at moved earlier by its head start, its real due time in not_before.
    const early = await emitTest(bus, "vital.early");
    await sql`update feyxa.event_queue set due_at = now() - interval '500 seconds', not_before = now() - interval '40 seconds', priority = 460
              where event_id = ${early}`;
    const health = await readHealth(sql);
    expect(health.lag_seconds).toBeGreaterThanOrEqual(90);
    expect(health.lag_seconds).toBeLessThan(100);
    expect(health.reasons).toMatchObject([{ code: "lag", status: "degraded", threshold: 60 }]);
    await sql`update feyxa.event_bus_settings set health_max_lag = '5 minutes'`;
    expect((await readHealth(sql)).status).toBe("healthy");
    // Claimed (leased), it is no longer lag.
    await sql`delete from feyxa.event_queue where event_id = ${id}`;
    expect((await readHealth(sql)).lag_seconds).toBeLessThan(50);
  });

  it("dead letters: those gone dead in the last window against the one before, rising degrades", async () => {
    await bus.heartbeats.beat("dispatcher", 0, true);
    const dead = async (minutesAgo: number) => {
      const id = await emitTest(bus, "vital.dead");
      await markDead(sql, id);
      await sql`update feyxa.events_log set processed_at = now() - make_interval(mins => ${minutesAgo}) where id = ${id}`;
    };
    await dead(20);
    await dead(25);
    await dead(5);
    let health = await readHealth(sql);
    expect(health.dead_letters).toEqual({ window_seconds: 900, current: 1, previous: 2 });
    expect(health.status).toBe("healthy");
    await dead(1);
    await dead(2);
    await dead(40); // older than two windows: not counted
    health = await readHealth(sql);
    expect(health.dead_letters).toEqual({ window_seconds: 900, current: 3, previous: 2 });
    expect(health.reasons).toMatchObject([{ code: "dead_letters_rising", value: 3, threshold: 2 }]);
    await sql`update feyxa.event_bus_settings set health_dead_window = '1 hour'`;
    expect((await readHealth(sql)).dead_letters).toEqual({ window_seconds: 3600, current: 6, previous: 0 });
  });

  it("an endpoint_failing rule that fires degrades, naming the route; paused or quiet, it does not", async () => {
    await bus.heartbeats.beat("dispatcher", 0, true);
    const [rule] = await sql`insert into feyxa.alert_rules (name, kind, handler_name, threshold) values ('crm down', 'endpoint_failing', 'crm.orders', 24) returning id`;
    await sql`insert into feyxa.alert_states (rule_id, firing, since) values (${rule.id}, true, now())`;
    expect((await readHealth(sql)).reasons).toMatchObject([{ code: "endpoint_failing", handlers: ["crm.orders"] }]);
    await sql`update feyxa.alert_rules set is_active = false where id = ${rule.id}`;
    expect((await readHealth(sql)).status).toBe("healthy");
    await sql`update feyxa.alert_rules set is_active = true where id = ${rule.id}`;
    await sql`update feyxa.alert_states set firing = false where rule_id = ${rule.id}`;
    expect((await readHealth(sql)).status).toBe("healthy");
    await sql`delete from feyxa.alert_rules where id = ${rule.id}`;
  });

  it("the throughput: successful runs per whole minute from the rollups (fold_stats), not the log", async () => {
    await sql`update feyxa.stats_cursor set folded_to = date_trunc('minute', now()) - interval '3 minutes'`;
    await sql`delete from feyxa.handler_minutes`;
    await sql`delete from feyxa.event_handlers_log`;
    // Runs of real events (the rollups count a run with its event's type).
    const { eventId } = await bus.emit({ event_type: "vital.counted", aggregate_type: "test", aggregate_id: uuid() });
    await sql`insert into feyxa.event_handlers_log (event_id, handler_name, attempt, status, duration_ms, created_at)
              select ${eventId}::uuid, 'vital.ok', i, case when i <= 7 then 'success' else 'failed' end, 3,
                     date_trunc('minute', now()) - interval '2 minutes' + interval '10 seconds'
              from generate_series(1, 9) i`;
    let health = await readHealth(sql);
    expect(health.throughput.per_minute).toEqual(Array(60).fill(0)); // not folded yet: the log is not counted
    await sql`select feyxa.fold_stats(interval '1 hour', interval '0 seconds')`;
    health = await readHealth(sql);
    expect(health.throughput.per_minute).toHaveLength(60);
    expect(health.throughput.per_minute.at(-2)).toBe(7);
    expect(health.throughput.per_minute.reduce((a, b) => a + b)).toBe(7);
    expect(health.throughput.to.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("in the database: the server reads the facts; an operator as themselves; anon and a signed-in stranger are refused", async () => {
    const admin = uuid();
    await sql`insert into auth.users (id, email) values (${admin}, 'vital-admin@example.com')`;
    await sql`insert into marketplace_admins (user_id) values (${admin})`;
    const facts = (tx: typeof sql) => tx`select workers_live from feyxa.health_facts()`;
    expect(await asApiRole(sql, "service_role", undefined, facts)).toEqual([{ workers_live: 0 }]);
    expect(await asApiRole(sql, "authenticated", admin, facts)).toEqual([{ workers_live: 0 }]);
    expect(await asApiRole(sql, "authenticated", uuid(), facts)).toBe("denied:42501");
    expect(await asApiRole(sql, "anon", undefined, facts)).toBe("denied:42501");
    // Without the claims PostgREST sets, the role alone is not enough either.
    const roleOnly = await sql.begin(async (tx) => {
      await tx`set local role authenticated`;
      await tx`select workers_live from feyxa.health_facts()`;
    }).then(() => "read", (e) => e.code);
    expect(roleOnly).toBe("42501");
    expect(await asApiRole(sql, "authenticated", admin, (tx) => tx`select * from feyxa.worker_heartbeats`)).toBe("denied:42501");
    expect(await asApiRole(sql, "authenticated", admin, (tx) => tx`select feyxa.report_worker('w', 'dispatcher', 'node', null, now(), 0)`)).toBe("denied:42501");
  });
});

describe("GET /functions/v1/metrics/health and feyxa_health", () => {
  it("answers the server only: anon 401, a signed-in stranger 403", async () => {
    expect((await call("metrics/health", {})).status).toBe(401);
    expect((await call("metrics/health", { authorization: `Bearer ${await token(uuid())}` })).status).toBe(403);
    expect((await call("metrics/health", { authorization: `Bearer ${TEST_SECRET_KEY}` })).status).toBe(200);
    const bad = await call("metrics/health?verbose=1");
    expect([bad.status, (await bad.json()).field]).toEqual([400, "verbose"]);
  });

  it("200 with the verdict while healthy or degraded, 503 with its reasons when down; never cached", async () => {
    let res = await call("metrics/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toMatchObject({ status: "healthy", reasons: [], lag_seconds: null });
    await emitTest(bus, "vital.stuck");
    res = await call("metrics/health");
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toMatchObject({ status: "down", reasons: [{ code: "no_worker", status: "down", threshold: 90 }] });
    expect(body.reasons[0].message).toMatch(/^no worker or invocation seen in the last hour, while events are due \(the oldest for /);
    await sql`update feyxa.event_queue set due_at = now() - interval '2 minutes'`;
    await bus.heartbeats.beat("dispatcher", 1, true);
    res = await call("metrics/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "degraded", reasons: [{ code: "lag" }], workers: { live: 1, recent: [{ role: "dispatcher", in_flight: 1, host: "test-host" }] } });
  });

  it("feyxa_health, feyxa_health_reason and feyxa_workers_live in /metrics", async () => {
    const scrape = async () => {
      const res = await gateway(new Request("http://localhost:54321/metrics", { headers: { apikey: TEST_SECRET_KEY } }));
      expect(res.status).toBe(200);
      return parsePrometheusText(await res.text());
    };
    let families = await scrape();
    expect(valueOf(families, "feyxa_health")).toBe(0);
    expect(valueOf(families, "feyxa_workers_live")).toBe(0);
    await emitTest(bus, "vital.stuck");
    families = await scrape();
    expect(valueOf(families, "feyxa_health")).toBe(2);
    expect(valueOf(families, "feyxa_health_reason", { reason: "no_worker" })).toBe(1);
    expect(valueOf(families, "feyxa_health_reason", { reason: "lag" })).toBe(0);
    await bus.heartbeats.beat("dispatcher", 0, true);
    families = await scrape();
    expect(valueOf(families, "feyxa_health")).toBe(0);
    expect(valueOf(families, "feyxa_workers_live")).toBe(1);
  });
});

describe("GET /event-monitor/health", () => {
  it("an operator reads the verdict as themselves; anon 401, a signed-in stranger and a store member 403", async () => {
    const [admin, stranger, member] = [uuid(), uuid(), uuid()];
    for (const id of [admin, stranger, member]) await sql`insert into auth.users (id, email) values (${id}, ${`${id}@example.com`})`;
    await sql`insert into marketplace_admins (user_id) values (${admin})`;
    const [shop] = await sql`insert into stores (name, slug) values ('Vital shop', ${`vital-${uuid()}`}) returning id`;
    await sql`insert into store_members (store_id, user_id, role) values (${shop.id}, ${member}, 'owner')`;
    const as = async (who?: string) => call("event-monitor/health", who ? { authorization: `Bearer ${await token(who)}` } : {});
    await emitTest(bus, "vital.stuck");
    const res = await as(admin);
    expect(res.status).toBe(200); // the page shows "down": the request itself succeeded
    expect(await res.json()).toMatchObject({ status: "down", reasons: [{ code: "no_worker" }], workers: { live: 0 } });
    expect((await as()).status).toBe(401);
    for (const who of [stranger, member]) {
      const refused = await as(who);
      expect(refused.status).toBe(403);
      expect((await refused.json()).message).toBe("only operators see the bus's health");
    }
  });
});
