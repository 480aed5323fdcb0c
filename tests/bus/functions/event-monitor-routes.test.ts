/**
 * The monitor's routes view and pause / resume: every route with its handler's numbers,
 * operators only; a paused route's events wait (deferred: pending, no retry spent, the
 * other handlers done once), where a switched-off route (is_active false) would let them
 * complete without it; resumed, its handler runs and the event completes. Audited,
 * idempotent per action id.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { countingHandler, eventRow, handlerRows, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { monitorClient, monitorGateway, person, type Person, store } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const ok = countingHandler("rt.ok");
const ship = countingHandler("rt.ship", () => new Error(`carrier ${uuid()} timed out after 30 s`));
const bus = testBus(sql, [ok.handler, ship.handler]);
const client = monitorClient(monitorGateway(bus));
let admin: Person, member: Person, stranger: Person, storeId: string;

beforeAll(async () => {
  await subscribe(sql, "rt.placed", "rt.ok", "rt.ship");
  storeId = await store(sql, "Route Store");
  admin = await person(sql, "ops@example.com", { admin: true });
  member = await person(sql, "staff@example.com", { stores: [storeId] });
  stranger = await person(sql, "who@example.com");
});

const emit = async () => (await bus.emit({ event_type: "rt.placed", aggregate_type: "order", aggregate_id: uuid(), tenant_id: storeId })).eventId;
const routeOf = async (who: Person, handler: string) =>
  ((await (await client.get(who, "/routes?window=1h")).json()).routes as Record<string, unknown>[]).find((r) => r.handler_name === handler);
const setPaused = async (who: Person, action: "pause" | "resume", actionId = uuid()) => {
  const res = await client.post(who, "/routes", { action_id: actionId, action, event_pattern: "rt.placed", handler_name: "rt.ship" });
  return { status: res.status, body: await res.json() };
};

describe("the routes view", () => {
  it("lists every route with its handler's runs, failures, durations and last error", async () => {
    await emit();
    await bus.drainOnce(10);
    expect(await routeOf(admin, "rt.ship")).toMatchObject({
      event_pattern: "rt.placed", target_kind: "local", is_active: true, paused_at: null, runs: 1, failures: 1,
      last_error: expect.stringMatching(/^carrier .* timed out/), p50_ms: expect.any(Number), p95_ms: expect.any(Number),
    });
    expect(await routeOf(admin, "rt.ok")).toMatchObject({ runs: 1, failures: 0, last_error: null });
  });

  it("shows nothing to a store member or a stranger, and refuses anon and a bad window naming the field", async () => {
    for (const who of [member, stranger]) expect((await (await client.get(who, "/routes")).json()).routes).toEqual([]);
    expect((await client.get(undefined, "/routes")).status).toBe(401);
    const bad = await client.get(admin, "/routes?window=2y");
    expect([bad.status, (await bad.json()).field]).toEqual([400, "window"]);
  });
});

describe("pausing a route", () => {
  it("is for operators: a member gets 403, nothing changes, nothing is audited", async () => {
    expect(await setPaused(member, "pause")).toMatchObject({ status: 403 });
    expect(await setPaused(stranger, "pause")).toMatchObject({ status: 403 });
    expect((await routeOf(admin, "rt.ship"))!.paused_at).toBeNull();
    expect(await sql`select * from feyxa.monitor_actions where kind like '%route'`).toHaveLength(0);
  });

  it("makes its events wait rather than fail; resumed, they run and complete", async () => {
    const actionId = uuid();
    expect(await setPaused(admin, "pause", actionId)).toMatchObject({ status: 200, body: { changed: true, paused: true, kind: "pause_route" } });
    expect(await setPaused(admin, "pause", actionId)).toMatchObject({ body: { changed: true, duplicate: true } });
    expect(await setPaused(admin, "pause")).toMatchObject({ body: { changed: false } }); // already paused
    const id = await emit();
    await bus.drainOnce(10);
    const waiting = await eventRow(sql, id);
    expect([waiting.status, waiting.retry_count]).toEqual(["pending", 0]);
    expect((await handlerRows(sql, id)).map((r) => [r.handler_name, r.status])).toEqual([["rt.ok", "success"], ["rt.ship", "deferred"]]);
    expect(ship.runs.get(id)).toBeUndefined();
    expect(await routeOf(admin, "rt.ship")).toMatchObject({ paused_at: expect.any(String), deferred: 1 });

    ship.handler.run = async () => {}; // the carrier is back
    expect(await setPaused(admin, "resume")).toMatchObject({ body: { changed: true, paused: false } });
    await sql`update feyxa.event_queue set due_at = now() where event_id = ${id}::uuid`; // rather than wait out the recheck
    await bus.drainOnce(10);
    expect((await eventRow(sql, id)).status).toBe("completed");
    expect(ok.runs.get(id)).toBe(1); // what succeeded before the pause did not run again
    const audit = await sql`select kind, actor_email from feyxa.monitor_actions where kind like '%route' order by created_at`;
    expect(audit.map((a) => a.kind)).toEqual(["pause_route", "pause_route", "resume_route"]); // the no-op is audited too
  });

  it("answers 404 naming the handler for a route that does not exist, 400 naming the field for a bad one", async () => {
    const missing = await client.post(admin, "/routes", { action_id: uuid(), action: "pause", event_pattern: "rt.none", handler_name: "rt.ship" });
    expect([missing.status, (await missing.json()).field]).toEqual([404, "handler_name"]);
    const bad = await client.post(admin, "/routes", { action_id: uuid(), action: "pause", event_pattern: "RT", handler_name: "rt.ship" });
    expect([bad.status, (await bad.json()).field]).toEqual([400, "event_pattern"]);
  });
});
