/**
 * The monitor's actions against the real database: admins only, audited, idempotent per
 * action id; retry and re-drive bring events back, replay runs a completed event's
 * owed handler without running again any handler that succeeded, discard sets one aside.
 * Each is the bus's operator verb (src/bus/operator.ts) made as the operator.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { countingHandler, eventRow, handlerRows, markDead, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { monitorClient, monitorGateway, person, type Person, store } from "../../support/monitor.ts";

const { sql } = await useDatabase();
let broken = true;
const ok = countingHandler("act.ok");
const flaky = countingHandler("act.flaky", () => (broken ? new Error("flaky is down") : undefined));
const late = countingHandler("act.late");
const later = countingHandler("act.later");
const bus = testBus(sql, [ok.handler, flaky.handler, late.handler, later.handler]);
const client = monitorClient(monitorGateway(bus));
let admin: Person, member: Person, storeId: string;

beforeAll(async () => {
  await subscribe(sql, "act.paid", "act.ok", "act.flaky");
  await subscribe(sql, "act.placed", "act.ok");
  storeId = await store(sql, "Act Store");
  admin = await person(sql, "ops@example.com", { admin: true });
  member = await person(sql, "staff@example.com", { stores: [storeId] });
});

const emit = async (type: string) =>
  (await bus.emit({ event_type: type, aggregate_type: "order", aggregate_id: uuid(), tenant_id: storeId })).eventId;
const act = async (who: Person, action: Record<string, unknown>) => {
  const res = await client.post(who, "/actions", { action_id: uuid(), ...action });
  return { status: res.status, body: await res.json() };
};
const kill = (id: string) => markDead(sql, id);

describe("event-monitor actions", () => {
  it("are for admins only: a store member gets 403 and nothing moves or is audited", async () => {
    const id = await emit("act.paid");
    await bus.drainOnce(10);
    expect(await act(member, { kind: "retry", event_id: id })).toMatchObject({ status: 403, body: { error: "forbidden" } });
    expect((await eventRow(sql, id)).status).toBe("failed");
    expect(await sql`select * from feyxa.monitor_actions`).toHaveLength(0);
    expect((await (await client.get(member, "/actions")).json()).actions).toEqual([]);
  });

  it("retry makes a failed event due now; after the fix it completes without re-running what succeeded", async () => {
    const id = await emit("act.paid");
    await bus.drainOnce(10);
    expect((await eventRow(sql, id)).next_retry_at!.getTime()).toBeGreaterThan(Date.now() + 60_000);
    broken = false;
    const res = await act(admin, { kind: "retry", event_id: id });
    expect(res).toMatchObject({ status: 200, body: { changed: true, previous_status: "failed", duplicate: false, kind: "retry" } });
    await bus.drainOnce(10);
    expect((await eventRow(sql, id)).status).toBe("completed");
    expect(ok.runs.get(id)).toBe(1);
    expect((await handlerRows(sql, id)).filter((r) => r.attempt === 2).map((r) => [r.handler_name, r.status]))
      .toEqual([["act.flaky", "success"], ["act.ok", "skipped"]]);
    broken = true;
  });

  it("is idempotent: the same action id does it once and answers the first result; a new one on a done event changes nothing", async () => {
    const id = await emit("act.paid");
    await bus.drainOnce(10);
    await kill(id);
    const action = { action_id: uuid(), kind: "retry", event_id: id };
    const first = await (await client.post(admin, "/actions", action)).json();
    const again = await (await client.post(admin, "/actions", action)).json();
    expect(first).toMatchObject({ changed: true, previous_status: "dead", duplicate: false });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await sql`select kind, actor_id, actor_email, target from feyxa.monitor_actions where id = ${action.action_id}`)
      .toEqual([{ kind: "retry", actor_id: admin.id, actor_email: "ops@example.com", target: { event_id: id } }]);
    // The same id for another action is refused.
    const reused = await client.post(admin, "/actions", { ...action, event_id: uuid() });
    expect(await reused.json()).toMatchObject({ error: "invalid_request", field: "action_id" });
    // One more attempt: still broken, retries exhausted, so dead again.
    await bus.drainOnce(10);
    expect((await eventRow(sql, id)).status).toBe("dead");
    // Retrying an event that completed changes nothing (and is audited all the same).
    const done = await emit("act.placed");
    await bus.drainOnce(10);
    expect((await act(admin, { kind: "retry", event_id: done })).body).toMatchObject({ changed: false, status: "completed" });
    expect((await act(admin, { kind: "retry", event_id: uuid() })).status).toBe(404);
  });

  it("re-drives every dead event of a type (optionally one error), and says how many are left", async () => {
    const dead = [await emit("act.placed"), await emit("act.placed"), await emit("act.placed")];
    const other = await emit("act.paid");
    await bus.drainOnce(10);
    for (const id of [...dead, other]) await kill(id);
    await sql`update feyxa.events_log set error_message = 'timeout' where id = ${dead[2]}`;
    const first = await act(admin, { kind: "redrive", event_type: "act.placed", error: "timeout" });
    expect(first.body).toMatchObject({ changed: true, redriven: 1, remaining: 0 });
    const all = await act(admin, { kind: "redrive", event_type: "act.placed" });
    expect(all.body).toMatchObject({ redriven: 2, remaining: 0 });
    await bus.drainOnce(10);
    for (const id of dead) expect((await eventRow(sql, id)).status).toBe("completed");
    expect((await eventRow(sql, other)).status).toBe("dead");
    expect((await act(admin, { kind: "redrive", event_type: "act.placed" })).body).toMatchObject({ changed: false, redriven: 0 });
  });

  it("replays a completed event to a handler subscribed later, running only that one", async () => {
    const id = await emit("act.placed");
    await bus.drainOnce(10);
    expect((await eventRow(sql, id)).status).toBe("completed");
    // Not subscribed yet: the attempt would not run it.
    expect(await act(admin, { kind: "replay", event_id: id, handler_name: "act.late" })).toMatchObject({ status: 409, body: { field: "handler" } });
    await subscribe(sql, "act.placed", "act.late");
    // Already succeeded: never again.
    expect((await act(admin, { kind: "replay", event_id: id, handler_name: "act.ok" })).body).toMatchObject({ error: "conflict", field: "handler" });
    const res = await act(admin, { kind: "replay", event_id: id, handler_name: "act.late" });
    expect(res).toMatchObject({ status: 200, body: { changed: true, will_run: ["act.late"] } });
    await bus.drainOnce(10);
    expect((await eventRow(sql, id)).status).toBe("completed");
    expect(late.runs.get(id)).toBe(1);
    expect(ok.runs.get(id)).toBe(1);
    expect((await handlerRows(sql, id)).filter((r) => r.attempt === 2).map((r) => [r.handler_name, r.status]))
      .toEqual([["act.late", "success"], ["act.ok", "skipped"]]);
    expect((await act(admin, { kind: "replay", event_id: id, handler_name: "act.late" })).status).toBe(409);
  });

  it("asks for include_owed when the replay would run other owed handlers too; refuses events that are not completed", async () => {
    await sql`update feyxa.event_subscriptions set is_active = false where handler_name = 'act.late'`;
    const id = await emit("act.placed");
    await bus.drainOnce(10);
    await subscribe(sql, "act.*", "act.later");
    await subscribe(sql, "act.placed", "act.late");
    const [{ owed }] = await sql`select feyxa.monitor_owed_handlers(${id}::uuid, 'act.placed') as owed`;
    expect(owed).toEqual(["act.late", "act.later"]);
    expect((await act(admin, { kind: "replay", event_id: id, handler_name: "act.later" })).body).toMatchObject({ field: "include_owed" });
    expect((await act(admin, { kind: "replay", event_id: id, handler_name: "act.later", include_owed: true })).body)
      .toMatchObject({ changed: true, will_run: ["act.late", "act.later"] });
    expect((await act(admin, { kind: "replay", event_id: id, handler_name: "act.later" })).body).toMatchObject({ error: "conflict", field: "event_id" });
    await sql`update feyxa.event_subscriptions set is_active = false where event_pattern = 'act.*'`;
  });

  it("lists the audit trail, newest first, for admins", async () => {
    const { actions } = await (await client.get(admin, "/actions")).json();
    expect(actions.length).toBeGreaterThanOrEqual(7);
    expect(actions[0]).toMatchObject({ kind: "replay", actor_email: "ops@example.com" });
    expect(new Date(actions[0].created_at).getTime()).toBeGreaterThanOrEqual(new Date(actions.at(-1).created_at).getTime());
  });

  it("discards a failed event for good, with its reason; a member may not; the reason is required", async () => {
    const id = await emit("act.paid");
    await bus.drainOnce(10);
    expect((await act(member, { kind: "discard", event_id: id, reason: "spam" })).status).toBe(403);
    expect((await act(admin, { kind: "discard", event_id: id, reason: " " })).body).toMatchObject({ field: "reason" });
    const res = await act(admin, { kind: "discard", event_id: id, reason: "a test order" });
    expect(res).toMatchObject({ status: 200, body: { changed: true, status: "discarded", previous_status: "failed", kind: "discard" } });
    expect(await sql`select count(*)::int as n from feyxa.event_queue where event_id = ${id}::uuid`).toEqual([{ n: 0 }]);
    expect((await act(admin, { kind: "discard", event_id: id, reason: "again" })).body).toMatchObject({ changed: false });
    const listed = await (await client.get(admin, "/events?status=discarded")).json();
    expect(listed.events.map((e: { id: string }) => e.id)).toContain(id);
  });

  it("validates the body: unknown kind, missing id, bad handler name", async () => {
    expect((await act(admin, { kind: "explode", event_id: uuid() })).status).toBe(400);
    expect((await client.post(admin, "/actions", { kind: "retry", event_id: uuid() })).status).toBe(400);
    expect((await act(admin, { kind: "replay", event_id: uuid(), handler_name: "Nope" })).body).toMatchObject({ field: "handler_name" });
  });
});
