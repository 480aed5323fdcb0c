/**
 * The operator verbs through the library (src/bus/operator.ts), with the server's own
 * connection: each moves events_log and event_queue together, answers the same action
 * id once, never re-runs a handler that succeeded; an API user who is not an admin is
 * refused by the transition itself.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { discardEvent, redriveDead, replayEvent, retryEvent } from "../../src/bus/index.ts";
import { asApiRole } from "../support/as-role.ts";
import { countingHandler, emitTest, eventRow, handlerRows, markDead, subscribe, testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();
let broken = true;
const ok = countingHandler("op.ok");
const flaky = countingHandler("op.flaky", () => (broken ? new Error("flaky is down") : undefined));
const late = countingHandler("op.late");
const bus = testBus(sql, [ok.handler, flaky.handler, late.handler]);

beforeAll(async () => {
  await subscribe(sql, "op.paid", "op.ok", "op.flaky");
  await subscribe(sql, "op.placed", "op.ok");
});

/** The event's status and its queue row: absent (null), parked ('infinity'), or due (a time). */
async function state(id: string) {
  const [queue] = await sql<{ due_at: Date | string; locked_by: string | null }[]>`
    select due_at::text as due_at, locked_by from feyxa.event_queue where event_id = ${id}::uuid`;
  return { status: (await eventRow(sql, id)).status, queue: queue ? (queue.due_at === "infinity" ? "parked" : "due") : "none" };
}
const failedOnce = async () => {
  const id = await emitTest(bus, "op.paid");
  await bus.drainOnce(10);
  return id;
};

describe("operator verbs", () => {
  it("retry: a dead event is due now in the log and the queue, runs only what failed, once per action id", async () => {
    const id = await failedOnce();
    await markDead(sql, id);
    expect(await state(id)).toEqual({ status: "dead", queue: "parked" });
    broken = false;
    const actionId = uuid();
    const first = await retryEvent(sql, id, { actionId });
    expect(first).toMatchObject({ changed: true, status: "failed", previous_status: "dead", duplicate: false, kind: "retry", action_id: actionId });
    expect(await state(id)).toEqual({ status: "failed", queue: "due" });
    expect(await retryEvent(sql, id, { actionId })).toEqual({ ...first, duplicate: true });
    await bus.drainOnce(10);
    expect(await state(id)).toEqual({ status: "completed", queue: "none" });
    expect(ok.runs.get(id)).toBe(1);
    expect(flaky.runs.get(id)).toBe(2);
    expect((await handlerRows(sql, id)).filter((r) => r.attempt === 2).map((r) => [r.handler_name, r.status]))
      .toEqual([["op.flaky", "success"], ["op.ok", "skipped"]]);
    // A fresh action on a completed event changes nothing; the server's actions are audited with no actor.
    expect(await retryEvent(sql, id)).toMatchObject({ changed: false, status: "completed" });
    expect(await sql`select actor_id, kind, target from feyxa.monitor_actions where id = ${actionId}`)
      .toEqual([{ actor_id: null, kind: "retry", target: { event_id: id } }]);
    broken = true;
  });

  it("redrive: the dead events of a type (optionally one error) move with their queue rows, in bounded batches", async () => {
    const dead = [await emitTest(bus, "op.placed"), await emitTest(bus, "op.placed"), await emitTest(bus, "op.placed")];
    await bus.drainOnce(10);
    for (const id of dead) await markDead(sql, id, "boom");
    await markDead(sql, dead[2], "timeout");
    expect(await redriveDead(sql, "op.placed", { error: "timeout" })).toMatchObject({ changed: true, redriven: 1, remaining: 0 });
    const actionId = uuid();
    const batch = await redriveDead(sql, "op.placed", { limit: 1, actionId });
    expect(batch).toMatchObject({ redriven: 1, remaining: 1 });
    expect(await redriveDead(sql, "op.placed", { limit: 1, actionId })).toMatchObject({ redriven: 1, remaining: 1, duplicate: true });
    expect(await redriveDead(sql, "op.placed")).toMatchObject({ redriven: 1, remaining: 0 });
    for (const id of dead) expect(await state(id)).toEqual({ status: "failed", queue: "due" });
    await bus.drainOnce(10);
    for (const id of dead) expect(await state(id)).toEqual({ status: "completed", queue: "none" });
    for (const id of dead) expect(ok.runs.get(id)).toBe(1);
  });

  it("replay: a completed event runs a handler subscribed since, and only that one; never one that succeeded", async () => {
    const id = await emitTest(bus, "op.placed");
    await bus.drainOnce(10);
    await expect(replayEvent(sql, id, "op.ok")).rejects.toMatchObject({ code: "55000" });
    await subscribe(sql, "op.placed", "op.late");
    const actionId = uuid();
    expect(await replayEvent(sql, id, "op.late", { actionId })).toMatchObject({ changed: true, status: "pending", will_run: ["op.late"] });
    expect(await state(id)).toEqual({ status: "pending", queue: "due" });
    expect(await replayEvent(sql, id, "op.late", { actionId })).toMatchObject({ duplicate: true });
    await bus.drainOnce(10);
    expect(await state(id)).toEqual({ status: "completed", queue: "none" });
    expect([ok.runs.get(id), late.runs.get(id)]).toEqual([1, 1]);
    await expect(replayEvent(sql, id, "op.late")).rejects.toMatchObject({ code: "55000" });
    await sql`update feyxa.event_subscriptions set is_active = false where handler_name = 'op.late'`;
  });

  it("discard: a failed event leaves the queue for good, with the reason; never claimed again; running or completed ones are refused", async () => {
    const id = await failedOnce();
    const actionId = uuid();
    const first = await discardEvent(sql, id, "test order sent to production", { actionId });
    expect(first).toMatchObject({ changed: true, status: "discarded", previous_status: "failed", kind: "discard" });
    expect(await discardEvent(sql, id, "test order sent to production", { actionId })).toEqual({ ...first, duplicate: true });
    expect(await discardEvent(sql, id, "again")).toMatchObject({ changed: false, status: "discarded" });
    expect(await state(id)).toEqual({ status: "discarded", queue: "none" });
    expect((await eventRow(sql, id)).error_message).toMatch(/^discarded: test order sent to production \(last error: op\.flaky: flaky is down\)$/);
    await expect(retryEvent(sql, id)).resolves.toMatchObject({ changed: false, status: "discarded" });
    await bus.drainOnce(10);
    expect(flaky.runs.get(id)).toBe(1);
    const done = await emitTest(bus, "op.placed");
    await bus.drainOnce(10);
    await expect(discardEvent(sql, done, "too late")).rejects.toMatchObject({ code: "55000" });
    await expect(discardEvent(sql, done, " ")).rejects.toMatchObject({ code: "22023" });
    await expect(discardEvent(sql, uuid(), "nothing there")).rejects.toMatchObject({ code: "P0002" });
  });

  it("acts for the server on a pooled connection that served a signed-in user before", async () => {
    // After a transaction's set_config(…, true) the setting reads '' on that connection, not null.
    const one = await sql.reserve();
    try {
      await one`begin`;
      await one`select set_config('request.jwt.claims', '{"sub":"00000000-0000-0000-0000-000000000001"}', true)`;
      await one`commit`;
      const id = await failedOnce();
      const [result] = await one`select feyxa.discard_event(gen_random_uuid(), ${id}::uuid, 'by the server') as r`;
      expect(result.r).toMatchObject({ changed: true, status: "discarded" });
      const [audit] = await sql`select actor_id, actor_email from feyxa.monitor_actions where target ->> 'event_id' = ${id}`;
      expect(audit).toEqual({ actor_id: null, actor_email: null });
    } finally {
      one.release();
    }
  });

  it("refuses an API user who is not an admin (42501), through the verb and the SQL alike", async () => {
    const id = await failedOnce();
    const stranger = uuid();
    expect(await asApiRole(sql, "authenticated", stranger, (tx) => retryEvent(tx, id))).toBe("denied:42501");
    expect(await asApiRole(sql, "authenticated", stranger, (tx) => discardEvent(tx, id, "no"))).toBe("denied:42501");
    expect(await asApiRole(sql, "anon", undefined, (tx) => redriveDead(tx, "op.paid"))).toBe("denied:42501");
    expect(await state(id)).toEqual({ status: "failed", queue: "due" });
  });
});
