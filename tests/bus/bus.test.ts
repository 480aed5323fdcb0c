import postgres from "postgres";
import { describe, expect, it, onTestFinished } from "vitest";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { NonRetriableError, RetryAfterError } from "../../src/bus/errors.ts";
import { useDatabase } from "../support/database.ts";
import { countingHandler, emitTest, eventRow, handlerRows, makeDue, subscribe, testBus } from "../support/bus.ts";

const db = await useDatabase();
const { sql } = db;
await sql`update feyxa.event_bus_settings set retry_jitter = 0.1`;
const MINUTE = 60_000;

describe("an attempt", () => {
  it("fans an event out to its four handlers, one success row each", async () => {
    const handlers = ["fan.a", "fan.b", "fan.c", "fan.d"].map((n) => countingHandler(n));
    await subscribe(sql, "fan.out", ...handlers.map((h) => h.handler.name));
    const bus = testBus(sql, handlers.map((h) => h.handler));
    const id = await emitTest(bus, "fan.out");
    const outcomes = await bus.drainOnce(10);
    expect(outcomes.map((o) => o.status)).toEqual(["completed"]);
    expect((await eventRow(sql, id)).status).toBe("completed");
    const rows = await handlerRows(sql, id);
    expect(rows.map((r) => [r.handler_name, r.status, r.attempt])).toEqual([
      ["fan.a", "success", 1], ["fan.b", "success", 1], ["fan.c", "success", 1], ["fan.d", "success", 1],
    ]);
  });

  it("leaves a failing event failed, next_retry_at = now + 5 min × 3^retry_count (+ up to 10% jitter), and retries only the failed handler", async () => {
    let broken = true;
    const ok = countingHandler("retry.ok");
    const flaky = countingHandler("retry.flaky", () => (broken ? new Error("escrow service down") : undefined));
    await subscribe(sql, "retry.once", "retry.ok", "retry.flaky");
    const bus = testBus(sql, [ok.handler, flaky.handler]);
    const id = await emitTest(bus, "retry.once");

    const before = Date.now();
    await bus.drainOnce(10);
    const failed = await eventRow(sql, id);
    expect(failed.status).toBe("failed");
    expect(failed.retry_count).toBe(1);
    expect(failed.error_message).toContain("retry.flaky: escrow service down");
    const delay = failed.next_retry_at!.getTime() - before;
    expect(delay).toBeGreaterThanOrEqual(5 * MINUTE - 2_000);
    expect(delay).toBeLessThanOrEqual(5.5 * MINUTE + 2_000);

    // Not due yet: nothing is claimed.
    expect(await bus.drainOnce(10)).toEqual([]);

    // Second failure: 15 minutes.
    await makeDue(sql, id);
    const before2 = Date.now();
    await bus.drainOnce(10);
    const again = await eventRow(sql, id);
    expect(again.retry_count).toBe(2);
    const delay2 = again.next_retry_at!.getTime() - before2;
    expect(delay2).toBeGreaterThanOrEqual(15 * MINUTE - 2_000);
    expect(delay2).toBeLessThanOrEqual(16.5 * MINUTE + 2_000);

    broken = false;
    await makeDue(sql, id);
    const [outcome] = await bus.drainOnce(10);
    expect(outcome.status).toBe("completed");
    expect(ok.runs.get(id)).toBe(1); // never re-run after its success
    expect(flaky.runs.get(id)).toBe(3);
    const rows = await handlerRows(sql, id);
    expect(rows.map((r) => `${r.attempt}:${r.handler_name}:${r.status}`)).toEqual([
      "1:retry.flaky:failed", "1:retry.ok:success",
      "2:retry.flaky:failed", "2:retry.ok:skipped",
      "3:retry.flaky:success", "3:retry.ok:skipped",
    ]);
  });

  it("dead-letters an event after max_retries failures", async () => {
    const always = countingHandler("dead.always", () => new Error("poison payload"));
    await subscribe(sql, "dead.poison", "dead.always");
    const bus = testBus(sql, [always.handler]);
    const id = await emitTest(bus, "dead.poison");
    for (let i = 0; i < 4; i++) {
      await makeDue(sql, id);
      await bus.drainOnce(10);
    }
    const row = await eventRow(sql, id);
    expect(row.status).toBe("dead");
    expect(row.retry_count).toBe(3);
    expect(row.next_retry_at).toBeNull();
    expect(row.error_message).toContain("poison payload");
    expect(always.runs.get(id)).toBe(4); // the first attempt and three retries
    await makeDue(sql, id);
    expect(await bus.drainOnce(10)).toEqual([]);
  });

  it("sends a NonRetriableError straight to dead with its reason", async () => {
    const refuse = countingHandler("dead.refuse", () => new NonRetriableError("out of stock"));
    await subscribe(sql, "dead.refused", "dead.refuse");
    const bus = testBus(sql, [refuse.handler]);
    const id = await emitTest(bus, "dead.refused");
    await bus.drainOnce(10);
    const row = await eventRow(sql, id);
    expect(row.status).toBe("dead");
    expect(row.error_message).toBe("not retriable: dead.refuse: NonRetriableError: out of stock");
  });

  it("honours a RetryAfterError's time instead of the backoff", async () => {
    const limited = countingHandler("later.limited", () => new RetryAfterError("rate limited", 30_000));
    await subscribe(sql, "later.rate_limited", "later.limited");
    const bus = testBus(sql, [limited.handler]);
    const id = await emitTest(bus, "later.rate_limited");
    const before = Date.now();
    await bus.drainOnce(10);
    const row = await eventRow(sql, id);
    expect(row.status).toBe("failed");
    expect(row.next_retry_at!.getTime() - before).toBeGreaterThan(25_000);
    expect(row.next_retry_at!.getTime() - before).toBeLessThan(35_000);
  });

  it("times out a hanging handler, logs it as such, and does not hold back the others", async () => {
    const hang = defineHandler("slow.hang", () => new Promise(() => {}), { timeoutMs: 200 });
    const quick = countingHandler("slow.quick");
    await subscribe(sql, "slow.event", "slow.hang", "slow.quick");
    const bus = testBus(sql, [hang, quick.handler]);
    const id = await emitTest(bus, "slow.event");
    const started = Date.now();
    await bus.drainOnce(10);
    expect(Date.now() - started).toBeLessThan(5_000);
    const rows = await handlerRows(sql, id);
    expect(rows.find((r) => r.handler_name === "slow.hang")).toMatchObject({
      status: "failed",
      error_message: "HandlerTimeoutError: timed out after 200 ms (handler slow.hang)",
    });
    expect(rows.find((r) => r.handler_name === "slow.quick")?.status).toBe("success");
    expect((await eventRow(sql, id)).status).toBe("failed");
  });

  it("isolates a handler that throws synchronously", async () => {
    const sync = defineHandler("iso.sync", (() => {
      throw new TypeError("undefined is not a function");
    }) as never);
    const fine = countingHandler("iso.fine");
    await subscribe(sql, "iso.event", "iso.sync", "iso.fine");
    const bus = testBus(sql, [sync, fine.handler]);
    const id = await emitTest(bus, "iso.event");
    await bus.drainOnce(10);
    const rows = await handlerRows(sql, id);
    expect(rows.map((r) => `${r.handler_name}:${r.status}:${r.error_message ?? ""}`)).toEqual([
      "iso.fine:success:", "iso.sync:failed:TypeError: undefined is not a function",
    ]);
  });

  it("logs a clear, retriable failure for a subscription with no code behind it", async () => {
    await subscribe(sql, "ghost.event", "ghost.missing");
    const bus = testBus(sql, []);
    const id = await emitTest(bus, "ghost.event");
    await bus.drainOnce(10);
    const [row] = await handlerRows(sql, id);
    expect(row.status).toBe("failed");
    expect(row.error_message).toContain('no handler named "ghost.missing" is registered');
    expect((await eventRow(sql, id)).status).toBe("failed");
  });

  it("takes back an event whose worker vanished once its lease runs out", async () => {
    const h = countingHandler("lease.work");
    await subscribe(sql, "lease.event", "lease.work");
    const crashed = testBus(sql, [h.handler], { leaseMs: 1_000 });
    const id = await emitTest(crashed, "lease.event");
    const [claimed] = await crashed.claimDue(10); // ...and never finishes: the worker died
    expect(claimed.id).toBe(id);

    const survivor = testBus(sql, [h.handler], { leaseMs: 1_000 });
    expect(await survivor.drainOnce(10)).toEqual([]); // still leased
    await new Promise((r) => setTimeout(r, 1_100));
    const [outcome] = await survivor.drainOnce(10);
    expect(outcome).toMatchObject({ eventId: id, status: "completed", leaseHeld: true });
    expect(h.runs.get(id)).toBe(1);
    const rows = await handlerRows(sql, id);
    expect(rows.map((r) => `${r.attempt}:${r.status}`)).toEqual(["2:success"]);

    // The vanished worker comes back late: its results are logged but it moves nothing.
    const late = await crashed.process([claimed]);
    expect(late[0]).toMatchObject({ status: "completed", leaseHeld: false });
  });

  it("keeps the lease of a long handler alive by renewing it", async () => {
    const long = defineHandler("lease.long", () => new Promise((r) => setTimeout(r, 2_500)));
    await subscribe(sql, "lease.long_event", "lease.long");
    const bus = testBus(sql, [long], { leaseMs: 1_000 });
    const other = testBus(sql, [long], { leaseMs: 1_000 });
    const id = await emitTest(bus, "lease.long_event");
    const running = bus.drainOnce(10);
    await new Promise((r) => setTimeout(r, 1_800));
    expect(await other.claimDue(10)).toEqual([]); // past the first lease, still held
    const [outcome] = await running;
    expect(outcome).toMatchObject({ eventId: id, status: "completed", leaseHeld: true });
  });

  it("renews on a connection of its own, so a pool its handlers keep busy past the lease cannot let it lapse", async () => {
    // The pool has one connection, held by the handler for longer than a whole lease.
    const busy = postgres(db.url, { max: 1, onnotice: () => {} });
    const leases = postgres(db.url, { max: 1, onnotice: () => {} });
    onTestFinished(() => Promise.all([busy.end({ timeout: 1 }), leases.end({ timeout: 1 })]).then(() => {}));
    let runs = 0;
    const hog = defineHandler("lease.hog", async (_event, ctx) => {
      runs++;
      await ctx.sql`select pg_sleep(2.4)`;
    });
    await subscribe(sql, "lease.hog_event", "lease.hog");
    const bus = testBus(busy, [hog], { leaseMs: 1_000, leaseSql: leases });
    const other = testBus(sql, [hog], { leaseMs: 1_000 });
    const id = await emitTest(bus, "lease.hog_event");
    const running = bus.drainOnce(10);
    await new Promise((r) => setTimeout(r, 1_600));
    expect(await other.claimDue(10)).toEqual([]); // past the first lease, still held
    const [outcome] = await running;
    expect(outcome).toMatchObject({ eventId: id, status: "completed", leaseHeld: true });
    expect(runs).toBe(1);
  });

  it("routes by pattern and ignores inactive subscriptions", async () => {
    const exact = countingHandler("route.exact");
    const prefix = countingHandler("route.prefix");
    const all = countingHandler("route.all");
    const off = countingHandler("route.off");
    await subscribe(sql, "shop.created", "route.exact");
    await subscribe(sql, "shop.*", "route.prefix");
    await subscribe(sql, "*", "route.all");
    await subscribe(sql, "shop.created", "route.off");
    await sql`update feyxa.event_subscriptions set is_active = false where handler_name = 'route.off'`;
    const bus = testBus(sql, [exact.handler, prefix.handler, all.handler, off.handler]);
    const created = await emitTest(bus, "shop.created");
    const closed = await emitTest(bus, "shop.closed");
    const other = await emitTest(bus, "shopping.created");
    await bus.drainOnce(10);
    expect([exact.runs.get(created), prefix.runs.get(created), all.runs.get(created), off.runs.get(created)]).toEqual([1, 1, 1, undefined]);
    expect([exact.runs.get(closed), prefix.runs.get(closed), all.runs.get(closed)]).toEqual([undefined, 1, 1]);
    expect([prefix.runs.get(other), all.runs.get(other)]).toEqual([undefined, 1]);
    await sql`delete from feyxa.event_subscriptions where event_pattern = '*'`;
  });

  it("gives released events back as pending without counting the attempt", async () => {
    await subscribe(sql, "release.event", "release.h");
    const bus = testBus(sql, []);
    const id = await emitTest(bus, "release.event");
    const claimed = await bus.claimDue(10);
    expect(claimed.map((c) => c.id)).toContain(id);
    expect(await bus.release(claimed.map((c) => c.id))).toBe(claimed.length);
    expect(await eventRow(sql, id)).toMatchObject({ status: "pending", retry_count: 0, locked_by: null });
  });
});

describe("complete_attempts", () => {
  it("is a no-op for results written a second time (a call retried after its answer was lost)", async () => {
    await subscribe(sql, "twice.event", "twice.h");
    const bus = testBus(sql, []);
    const id = await emitTest(bus, "twice.event");
    const claimed = (await bus.claimOne(id))!;
    const results = [{ event_id: claimed.id, attempt: claimed.attempt, handlers: [{ handler_name: "twice.h", status: "success", duration_ms: 3 }] }];
    const first = await sql`select * from feyxa.complete_attempts(${bus.workerId}, ${sql.json(results)})`;
    const second = await sql`select * from feyxa.complete_attempts(${bus.workerId}, ${sql.json(results)})`;
    expect(first).toMatchObject([{ event_id: id, status: "completed", lease_held: true }]);
    expect(second).toMatchObject([{ event_id: id, status: "completed", lease_held: false }]);
    expect(await handlerRows(sql, id)).toMatchObject([{ handler_name: "twice.h", attempt: 1, status: "success", duration_ms: 3 }]);
  });

  it("refuses results for an event that does not exist, and writes none of the batch", async () => {
    await subscribe(sql, "ghost.event", "ghost.h");
    const bus = testBus(sql, []);
    const id = await emitTest(bus, "ghost.event");
    const claimed = (await bus.claimOne(id))!;
    const ghost = crypto.randomUUID();
    const run = { handler_name: "ghost.h", status: "success", duration_ms: 1 };
    const results = [{ event_id: claimed.id, attempt: claimed.attempt, handlers: [run] }, { event_id: ghost, attempt: 1, handlers: [run] }];
    await expect(sql`select * from feyxa.complete_attempts(${bus.workerId}, ${sql.json(results)})`).rejects.toThrow(`results name an event that does not exist: ${ghost}`);
    expect(await handlerRows(sql, id)).toEqual([]);
    expect((await eventRow(sql, id)).status).toBe("processing");
  });
});

describe("event_queue", () => {
  const queueRow = async (id: string) =>
    (await sql<{ due_at: Date; locked_by: string | null; infinite: boolean }[]>`
      select due_at, locked_by, due_at = 'infinity' as infinite from feyxa.event_queue where event_id = ${id}::uuid`)[0];
  const lockedUntil = async (id: string) => (await sql<{ t: Date }[]>`select locked_until as t from feyxa.events_log where id = ${id}::uuid`)[0].t;

  it("holds every open event and follows it through each transition; a completed event leaves it", async () => {
    const ok = countingHandler("queue.ok");
    const flaky = countingHandler("queue.flaky", () => new Error("down"));
    const refuse = countingHandler("queue.refuse", () => new NonRetriableError("no"));
    await subscribe(sql, "queue.done", "queue.ok");
    await subscribe(sql, "queue.retry", "queue.flaky");
    await subscribe(sql, "queue.dead", "queue.refuse");
    const bus = testBus(sql, [ok.handler, flaky.handler, refuse.handler]);
    const [done, retry, dead] = [await emitTest(bus, "queue.done"), await emitTest(bus, "queue.retry"), await emitTest(bus, "queue.dead")];
    for (const id of [done, retry, dead]) expect(await queueRow(id)).toMatchObject({ locked_by: null });

    const claimed = await bus.claimDue(10);
    for (const id of [done, retry, dead]) {
      expect(claimed.map((c) => c.id)).toContain(id);
      // The lease is the queue row's: held by this worker until the event's locked_until.
      expect(await queueRow(id)).toMatchObject({ locked_by: bus.workerId, due_at: await lockedUntil(id) });
    }
    await bus.process(claimed);
    expect(await queueRow(done)).toBeUndefined();
    expect(await queueRow(retry)).toMatchObject({ locked_by: null, due_at: (await eventRow(sql, retry)).next_retry_at });
    expect(await queueRow(dead)).toMatchObject({ locked_by: null, infinite: true });

    // Released (a worker shutting down): unleased and due at once.
    await makeDue(sql, retry);
    const [again] = await bus.claimDue(10);
    expect(again.id).toBe(retry);
    await bus.release([retry]);
    expect(await queueRow(retry)).toMatchObject({ locked_by: null });
    expect((await queueRow(retry)).due_at.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);

    // Leased by a worker that vanished: the reaper gives it back, due at once, as failed.
    const [lost] = await testBus(sql, [], { leaseMs: 1_000 }).claimDue(10);
    expect(lost.id).toBe(retry);
    await sql`update feyxa.event_queue set due_at = now() - interval '1 second' where event_id = ${retry}::uuid`;
    expect((await sql`select feyxa.reap_expired_leases() as n`)[0].n).toBe(1);
    expect(await queueRow(retry)).toMatchObject({ locked_by: null });
    expect((await eventRow(sql, retry)).status).toBe("failed");
  });

  it("drops, at the next claim, the queue row of an event completed behind the state functions' back", async () => {
    await subscribe(sql, "queue.edited", "queue.none");
    const bus = testBus(sql, []);
    const id = await emitTest(bus, "queue.edited");
    await sql`update feyxa.events_log set status = 'completed', processed_at = now() where id = ${id}::uuid`;
    expect((await bus.claimDue(10)).map((c) => c.id)).not.toContain(id);
    expect(await queueRow(id)).toBeUndefined();
  });
});
