/**
 * The monitor's routes view and pause / resume: every route with its own numbers (its
 * handler's runs of the events its pattern matches: a route that never matched shows none,
 * overlapping routes of one handler say so), operators only; what a pause would hold up,
 * counted before it; a pause needs a reason, kept in the audit trail; a paused route's
 * events wait (deferred: pending, no retry spent, the other handlers done once), where a
 * switched-off route (is_active false) would let them complete without it; resumed, its
 * handler runs and the event completes. Audited, idempotent per action id.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { countingHandler, eventRow, handlerRows, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { monitorClient, monitorGateway, person, type Person, store } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const ok = countingHandler("rt.ok");
const ship = countingHandler("rt.ship", () => new Error(`carrier ${uuid()} timed out after 30 s`));
const pay = countingHandler("rt.pay", () => new Error("bank says no"));
const bus = testBus(sql, [ok.handler, ship.handler, pay.handler]);
const client = monitorClient(monitorGateway(bus));
let admin: Person, member: Person, stranger: Person, storeId: string;

beforeAll(async () => {
  await subscribe(sql, "rt.placed", "rt.ok", "rt.ship");
  await subscribe(sql, "rt.returned", "rt.ship"); // the same handler on a type nothing emits
  await subscribe(sql, "rt.*", "rt.ok"); // overlaps rt.placed -> rt.ok
  await subscribe(sql, "rt.paid", "rt.pay");
  await sql`select feyxa.set_route_policy('rt.pay', 8, p_event_pattern => 'rt.paid')`;
  storeId = await store(sql, "Route Store");
  admin = await person(sql, "ops@example.com", { admin: true });
  member = await person(sql, "staff@example.com", { stores: [storeId] });
  stranger = await person(sql, "who@example.com");
});

const emit = async () => (await bus.emit({ event_type: "rt.placed", aggregate_type: "order", aggregate_id: uuid(), tenant_id: storeId })).eventId;
const routeOf = async (who: Person, handler: string, pattern = "rt.placed") =>
  ((await (await client.get(who, "/routes?window=1h")).json()).routes as Record<string, unknown>[])
    .find((r) => r.handler_name === handler && r.event_pattern === pattern);
const setPaused = async (who: Person, action: "pause" | "resume", actionId = uuid(), reason: string | null = "carrier down") => {
  const res = await client.post(who, "/routes", { action_id: actionId, action, event_pattern: "rt.placed", handler_name: "rt.ship", reason: reason ?? undefined });
  return { status: res.status, body: await res.json() };
};
const waiting = async (who: Person, pattern = "rt.placed", handler = "rt.ship") => {
  const res = await client.get(who, `/routes/waiting?event_pattern=${pattern}&handler_name=${handler}`);
  return { status: res.status, body: await res.json() };
};

describe("the routes view", () => {
  it("lists every route with its own runs, failures, durations and last error: a route that never matched shows none", async () => {
    await emit();
    await bus.drainOnce(10);
    expect(await routeOf(admin, "rt.ship")).toMatchObject({
      event_pattern: "rt.placed", target_kind: "local", is_active: true, paused_at: null, runs: 1, failures: 1,
      last_error: expect.stringMatching(/^carrier .* timed out/), p50_ms: expect.any(Number), p95_ms: expect.any(Number), shared_with: [],
    });
    // The same handler's other route: no event of its type, so no runs, no failure rate, no error.
    expect(await routeOf(admin, "rt.ship", "rt.returned")).toMatchObject({
      runs: 0, failures: 0, deferred: 0, p50_ms: null, p95_ms: null, last_error: null, last_error_at: null, shared_with: [],
    });
    // Two routes of one handler matching the same type: one run (the handler runs once), counted under each, which says so.
    expect(ok.runs.size).toBe(1);
    expect(await routeOf(admin, "rt.ok")).toMatchObject({ runs: 1, failures: 0, last_error: null, shared_with: ["rt.*"] });
    expect(await routeOf(admin, "rt.ok", "rt.*")).toMatchObject({ runs: 1, shared_with: ["rt.placed"] });
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
    expect(await waiting(member)).toMatchObject({ status: 403 });
    expect(await waiting(stranger)).toMatchObject({ status: 403 });
    expect((await routeOf(admin, "rt.ship"))!.paused_at).toBeNull();
    expect(await sql`select * from feyxa.monitor_actions where kind like '%route'`).toHaveLength(0);
  });

  it("needs a reason, and says first how many open events would wait", async () => {
    const bad = await setPaused(admin, "pause", uuid(), null);
    expect([bad.status, bad.body.field]).toEqual([400, "reason"]);
    expect((await setPaused(admin, "pause", uuid(), "   ")).body.field).toBe("reason");
    // Two events not yet run owe rt.ship; the one it already failed owes it too (it will be retried).
    const open = [await emit(), await emit()];
    expect(await waiting(admin)).toMatchObject({ status: 200, body: { waiting: 3, capped: false } });
    // rt.ok has succeeded on the first event already: only the two not yet run wait for it.
    expect((await waiting(admin, "rt.placed", "rt.ok")).body).toEqual({ waiting: 2, capped: false });
    expect((await waiting(admin, "rt.returned")).body).toEqual({ waiting: 0, capped: false });
    const missing = await waiting(admin, "rt.none");
    expect([missing.status, missing.body.field]).toEqual([404, "handler_name"]);
    expect((await waiting(admin, "RT")).body.field).toBe("event_pattern");
    await bus.drainOnce(10);
    for (const id of open) expect((await eventRow(sql, id)).status).toBe("failed");
    for (const id of open) await sql`select feyxa.discard_event(gen_random_uuid(), ${id}::uuid, 'out of the way')`;
  });

  it("makes its events wait rather than fail; resumed, they run and complete", async () => {
    const actionId = uuid();
    expect(await setPaused(admin, "pause", actionId)).toMatchObject({ status: 200, body: { changed: true, paused: true, kind: "pause_route", waiting: 1 } });
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
    const audit = await sql`select kind, actor_email, target, result from feyxa.monitor_actions where kind like '%route' order by created_at`;
    expect(audit.map((a) => a.kind)).toEqual(["pause_route", "pause_route", "resume_route"]); // the no-op is audited too
    expect(audit[0]).toMatchObject({
      actor_email: "ops@example.com", target: { event_pattern: "rt.placed", handler_name: "rt.ship", reason: "carrier down" }, result: { waiting: 1 },
    });
    expect(audit[2].target).toEqual({ event_pattern: "rt.placed", handler_name: "rt.ship", reason: "carrier down" });
  });

  it("answers 404 naming the handler for a route that does not exist, 400 naming the field for a bad one", async () => {
    const missing = await client.post(admin, "/routes", { action_id: uuid(), action: "pause", event_pattern: "rt.none", handler_name: "rt.ship", reason: "test" });
    expect([missing.status, (await missing.json()).field]).toEqual([404, "handler_name"]);
    const bad = await client.post(admin, "/routes", { action_id: uuid(), action: "pause", event_pattern: "RT", handler_name: "rt.ship" });
    expect([bad.status, (await bad.json()).field]).toEqual([400, "event_pattern"]);
  });
});

describe("the retry queue", () => {
  it("counts a failed event's attempts against its route's real policy, not the bus's default", async () => {
    const { eventId } = await bus.emit({ event_type: "rt.paid", aggregate_type: "order", aggregate_id: uuid(), tenant_id: storeId });
    await bus.drainOnce(10);
    const { retry_queue } = await (await client.get(admin, "/stats?window=1h")).json();
    // rt.pay may fail 8 times (its route's max_attempts), where the bus's default would allow 4 (max_retries 3, plus the first).
    expect(retry_queue.next.find((e: { id: string }) => e.id === eventId)).toMatchObject({
      retry_count: 1, max_retries: 3, attempts_used: 1, attempts_allowed: 8, policy_handler: "rt.pay", policy_route: "rt.paid",
    });
  });
});

describe("pause_route called directly", () => {
  it("refuses a pause without a reason, naming the field", async () => {
    await expect(sql`select feyxa.pause_route(gen_random_uuid(), 'rt.paid', 'rt.pay', null)`).rejects.toMatchObject({ code: "22023", detail: "reason" });
    await expect(sql`select feyxa.pause_route(gen_random_uuid(), 'rt.paid', 'rt.pay', '  ')`).rejects.toMatchObject({ code: "22023", detail: "reason" });
  });
});
