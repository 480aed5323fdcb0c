import postgres from "postgres";
import { describe, expect, it, onTestFinished } from "vitest";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import type { Handler, NewEvent } from "../../src/bus/types.ts";
import { useDatabase } from "../support/database.ts";
import { countingHandler, emitTest, eventRow, SlowClaimsBus, subscribe, testBus, uuid } from "../support/bus.ts";

const db = await useDatabase();
const { sql } = db;

/** A dispatcher with its own connection pool, as a separate process would have. */
function separateDispatcher(handlers: Handler[], options: ConstructorParameters<typeof Dispatcher>[1] = {}) {
  const ownSql = postgres(db.url, { max: 6, onnotice: () => {} });
  const bus = testBus(ownSql, handlers, { subscriptionTtlMs: 60_000 });
  const dispatcher = new Dispatcher(bus, { onError: () => {}, ...options });
  onTestFinished(async () => {
    await dispatcher.stop();
    await ownSql.end({ timeout: 5 });
  });
  return { dispatcher, bus };
}

describe("the dispatcher", () => {
  it("two dispatchers racing over 1,000 events run each handler exactly once", async () => {
    const names = ["race.a", "race.b", "race.c", "race.d"];
    await subscribe(sql, "race.event", ...names);
    const runs = new Map<string, number>();
    const byDispatcher = { one: 0, two: 0 };
    const handlersOf = (label: keyof typeof byDispatcher) =>
      names.map((name) =>
        defineHandler(name, async (event) => {
          const key = `${event.id}:${name}`;
          runs.set(key, (runs.get(key) ?? 0) + 1);
          byDispatcher[label]++;
        })
      );
    const one = separateDispatcher(handlersOf("one"), { batchSize: 25, concurrency: 2, pollIntervalMs: 50 });
    const two = separateDispatcher(handlersOf("two"), { batchSize: 25, concurrency: 2, pollIntervalMs: 50 });
    const events: NewEvent[] = Array.from({ length: 1000 }, (_, i) => ({
      event_type: "race.event", aggregate_type: "test", aggregate_id: uuid(), payload: { i },
    }));
    await testBus(sql, []).emitMany(events);
    await Promise.all([one.dispatcher.start(), two.dispatcher.start()]);

    await expect.poll(async () => {
      const [{ n }] = await sql`select count(*)::int as n from feyxa.events_log where event_type = 'race.event' and status = 'completed'`;
      return n;
    }, { timeout: 30_000, interval: 100 }).toBe(1000);

    expect(runs.size).toBe(4000);
    expect(byDispatcher.one).toBeGreaterThan(0); // both took part in the race
    expect(byDispatcher.two).toBeGreaterThan(0);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    const [log] = await sql`
      select count(*)::int as rows, count(distinct (h.event_id, h.handler_name))::int as distinct_runs,
             count(*) filter (where h.status = 'success' and h.attempt = 1)::int as first_try_successes
      from feyxa.event_handlers_log h join feyxa.events_log e on e.id = h.event_id where e.event_type = 'race.event'`;
    expect(log).toMatchObject({ rows: 4000, distinct_runs: 4000, first_try_successes: 4000 });
  });

  it("wakes on NOTIFY instead of waiting for its poll", async () => {
    const h = countingHandler("wake.h");
    await subscribe(sql, "wake.event", "wake.h");
    const { dispatcher, bus } = separateDispatcher([h.handler], { pollIntervalMs: 60_000 });
    await dispatcher.start();
    await new Promise((r) => setTimeout(r, 200)); // the first loop is asleep now
    const started = Date.now();
    const id = await emitTest(bus, "wake.event");
    await expect.poll(async () => (await eventRow(sql, id)).status, { timeout: 5_000, interval: 20 }).toBe("completed");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("claims what a completion made claimable without waiting for its poll: an ordering line's next event, a capped tenant's room", async () => {
    const h = countingHandler("line.step");
    await subscribe(sql, "line.step", "line.step");
    const { dispatcher, bus } = separateDispatcher([h.handler], { pollIntervalMs: 60_000 });
    const key = `order:${uuid()}`;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await bus.emit({ event_type: "line.step", aggregate_type: "test", aggregate_id: uuid(), ordering_key: key })).eventId);
    await dispatcher.start();
    // With a 60 s poll, only claims made on completion get the line done within the poll.
    await expect.poll(async () => (await eventRow(sql, ids[3])).status, { timeout: 20_000, interval: 50 }).toBe("completed");
  });

  it("still drains by polling alone when LISTEN is unavailable (transaction pooler)", async () => {
    const h = countingHandler("poll.h");
    await subscribe(sql, "poll.event", "poll.h");
    const { dispatcher, bus } = separateDispatcher([h.handler], { listen: false, pollIntervalMs: 100 });
    await dispatcher.start();
    const id = await emitTest(bus, "poll.event");
    await expect.poll(async () => (await eventRow(sql, id)).status, { timeout: 5_000, interval: 50 }).toBe("completed");
  });

  it("reloads its routing when subscriptions change", async () => {
    const h = countingHandler("reroute.h");
    const { dispatcher, bus } = separateDispatcher([h.handler], { pollIntervalMs: 100 });
    await dispatcher.start();
    const before = await emitTest(bus, "reroute.event");
    await expect.poll(async () => (await eventRow(sql, before)).status, { timeout: 5_000 }).toBe("completed");
    expect(h.runs.get(before)).toBeUndefined(); // nobody subscribed yet

    await subscribe(sql, "reroute.event", "reroute.h"); // NOTIFY feyxa_subscriptions; the cache TTL is a minute
    await new Promise((r) => setTimeout(r, 300));
    const after = await emitTest(bus, "reroute.event");
    await expect.poll(async () => (await eventRow(sql, after)).status, { timeout: 5_000 }).toBe("completed");
    expect(h.runs.get(after)).toBe(1);
  });

  it("on stop, lets in-flight handlers finish before it returns", async () => {
    const slow = defineHandler("stop.slow", () => new Promise((r) => setTimeout(r, 800)));
    await subscribe(sql, "stop.event", "stop.slow");
    const { dispatcher, bus } = separateDispatcher([slow], { pollIntervalMs: 50 });
    await dispatcher.start();
    const id = await emitTest(bus, "stop.event");
    await expect.poll(async () => (await eventRow(sql, id)).status, { timeout: 5_000, interval: 20 }).toBe("processing");
    await dispatcher.stop();
    expect(await eventRow(sql, id)).toMatchObject({ status: "completed", locked_by: null });
  });

  it("on stop, gives back what is still running after the grace period", async () => {
    const stuck = defineHandler("stop.stuck", () => new Promise((r) => setTimeout(r, 3_000)), { timeoutMs: 5_000 });
    await subscribe(sql, "stop.stuck_event", "stop.stuck");
    const { dispatcher, bus } = separateDispatcher([stuck], { pollIntervalMs: 50, shutdownGraceMs: 300 });
    await dispatcher.start();
    const id = await emitTest(bus, "stop.stuck_event");
    await expect.poll(async () => (await eventRow(sql, id)).status, { timeout: 5_000, interval: 20 }).toBe("processing");
    await dispatcher.stop();
    expect(await eventRow(sql, id)).toMatchObject({ status: "pending", retry_count: 0, locked_by: null });
  });

  it("on stop, a claim still on its way gives its events back when it lands, and no handler starts after stop() returned", async () => {
    const h = countingHandler("stop.late");
    await subscribe(sql, "stop.late_event", "stop.late");
    const ownSql = postgres(db.url, { max: 4, onnotice: () => {} });
    onTestFinished(() => ownSql.end({ timeout: 5 }));
    const bus = new SlowClaimsBus({ sql: ownSql, handlers: [h.handler], onError: () => {} }, 300);
    const id = await emitTest(bus, "stop.late_event");
    const errors: unknown[] = [];
    const dispatcher = new Dispatcher(bus, { listen: false, pollIntervalMs: 50, onError: (e) => errors.push(e) });
    await dispatcher.start();
    await expect.poll(() => bus.claimsSent, { timeout: 2_000, interval: 5 }).toBeGreaterThan(0);
    await dispatcher.stop(); // while the claim sleeps
    expect(await eventRow(sql, id)).toMatchObject({ status: "pending", locked_by: null, retry_count: 0 });
    await new Promise((r) => setTimeout(r, 400));
    expect(h.runs.get(id)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
