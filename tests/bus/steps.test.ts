/**
 * Steps within a fan-out (`after`, src/bus/steps.ts): a handler starts once its
 * prerequisites have succeeded, in this attempt or an earlier one; a prerequisite's failure
 * makes it wait (logged 'waiting') and run on the next attempt, a refusal blocks it for good
 * (logged 'blocked'); independent handlers still run concurrently. The same scenario runs
 * through the Node dispatcher over PostgreSQL and through the InMemoryBus.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { Bus } from "../../src/bus/bus.ts";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { NonRetriableError } from "../../src/bus/errors.ts";
import { InMemoryBus } from "../../src/bus/in-memory-bus.ts";
import { syncRoutes } from "../../src/bus/route-sync.ts";
import type { BusEvent, Handler, HandlerRun } from "../../src/bus/types.ts";
import { useDatabase } from "../support/database.ts";
import { eventRow, handlerRows, makeDue, subscribe, testBus, uuid } from "../support/bus.ts";

const { sql } = await useDatabase();

/** Two handlers that each wait until the other has started: they finish only if they run at once. */
function rendezvous() {
  const meetings = new Map<string, { arrived: number; all: Promise<void>; open: () => void }>();
  return async (eventId: string) => {
    let meeting = meetings.get(eventId);
    if (!meeting) {
      let open!: () => void;
      const all = new Promise<void>((resolve) => (open = resolve));
      meeting = { arrived: 0, all, open };
      meetings.set(eventId, meeting);
    }
    if (++meeting.arrived === 2) meeting.open();
    await meeting.all;
  };
}

/**
 * steps.reserve (fails its first attempt when asked to, refuses when asked to), steps.confirm
 * after it, steps.ship after confirm; steps.count and steps.notify, independent, meet each other.
 * `journal` records each start and end, in the order they happen.
 */
function stepHandlers(prefix: string) {
  const journal: string[] = [];
  const meet = rendezvous();
  const types = [`${prefix}.ordered`];
  const step = (name: string, options: { after?: string[]; on?: string[] }, body: (event: BusEvent) => Promise<void> = async () => {}) =>
    defineHandler(`${prefix}.${name}`, async (event) => {
      journal.push(`${name}:start:${event.attempt}`);
      await body(event);
      journal.push(`${name}:end:${event.attempt}`);
    }, { on: options.on ?? types, after: options.after?.map((a) => `${prefix}.${a}`), timeoutMs: 5_000 });
  const handlers: Handler[] = [
    step("reserve", {}, async ({ payload, attempt }) => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // its dependants must really wait for it
      if (payload.refuse) throw new NonRetriableError("out of stock");
      if (payload.fail_first && attempt === 1) throw new Error("stock service unavailable");
    }),
    step("confirm", { after: ["reserve"], on: [...types, `${prefix}.reminded`] }),
    step("ship", { after: ["confirm"] }),
    step("count", {}, (event) => meet(event.id)),
    step("notify", {}, (event) => meet(event.id)),
  ];
  return { handlers, journal };
}

const summary = (runs: { handler_name: string; status: string }[], prefix: string) =>
  runs.map((r) => `${r.handler_name.slice(prefix.length + 1)}:${r.status}`).sort();

const before = (journal: string[], first: string, then: string) => {
  expect(journal).toContain(first);
  expect(journal).toContain(then);
  expect(journal.indexOf(first), `${first} before ${then}: ${journal.join(", ")}`).toBeLessThan(journal.indexOf(then));
};

describe("steps within a fan-out, through the Node dispatcher", () => {
  async function dispatching(prefix: string) {
    const { handlers, journal } = stepHandlers(prefix);
    await syncRoutes(sql, prefix.replace(".", "_"), handlers);
    const bus = testBus(sql, handlers);
    const dispatcher = new Dispatcher(bus, { pollIntervalMs: 50, onError: () => {} });
    await dispatcher.start();
    onTestFinished(() => dispatcher.stop());
    const emit = async (type: string, payload: Record<string, unknown>) =>
      (await bus.emit({ event_type: `${prefix}.${type}`, aggregate_type: "test", aggregate_id: uuid(), payload })).eventId;
    const settled = (id: string, status: string) =>
      expect.poll(async () => (await eventRow(sql, id)).status, { timeout: 15_000, interval: 25 }).toBe(status);
    return { journal, emit, settled };
  }

  it("a prerequisite's failure makes its dependants wait; the next attempt runs it, then them; independent handlers run at once", async () => {
    const { journal, emit, settled } = await dispatching("stepa");
    const id = await emit("ordered", { fail_first: true });
    await settled(id, "failed");
    const first = await handlerRows(sql, id);
    expect(summary(first, "stepa")).toEqual(["confirm:waiting", "count:success", "notify:success", "reserve:failed", "ship:waiting"]);
    expect(first.find((r) => r.handler_name === "stepa.confirm")?.error_message).toContain("waits for stepa.reserve");
    expect((await eventRow(sql, id)).error_message).toBe("stepa.reserve: stock service unavailable"); // a wait is no failure of its own
    expect(journal.filter((j) => j.startsWith("confirm") || j.startsWith("ship"))).toEqual([]);

    await makeDue(sql, id);
    await settled(id, "completed");
    const second = (await handlerRows(sql, id)).filter((r) => r.attempt === 2);
    expect(summary(second, "stepa")).toEqual(["confirm:success", "count:skipped", "notify:skipped", "reserve:success", "ship:success"]);
    before(journal, "reserve:end:2", "confirm:start:2");
    before(journal, "confirm:end:2", "ship:start:2");
  });

  it("a refusal blocks its dependants, and theirs, for good, logged as blocked", async () => {
    const { journal, emit, settled } = await dispatching("stepb");
    const id = await emit("ordered", { refuse: true });
    await settled(id, "dead");
    const runs = await handlerRows(sql, id);
    expect(summary(runs, "stepb")).toEqual(["confirm:blocked", "count:success", "notify:success", "reserve:failed", "ship:blocked"]);
    expect(runs.find((r) => r.handler_name === "stepb.confirm")?.error_message).toBe("not run: stepb.reserve has refused the event");
    expect(runs.find((r) => r.handler_name === "stepb.ship")?.error_message).toBe("not run: stepb.confirm has refused the event");
    expect((await eventRow(sql, id)).error_message).toBe("not retriable: stepb.reserve: NonRetriableError: out of stock");
    expect(journal.some((j) => j.startsWith("confirm") || j.startsWith("ship"))).toBe(false);
  });

  it("a prerequisite not routed to the event is ignored", async () => {
    const { journal, emit, settled } = await dispatching("stepc");
    const id = await emit("reminded", {});
    await settled(id, "completed");
    expect(summary(await handlerRows(sql, id), "stepc")).toEqual(["confirm:success"]);
    expect(journal).toEqual(["confirm:start:1", "confirm:end:1"]);
  });
});

describe("steps within a fan-out, through the InMemoryBus", () => {
  const statuses = (attempt: HandlerRun[]) => summary(attempt, "stepm");

  it("waits on a failure, blocks on a refusal, ignores what is not routed, runs independent handlers at once", async () => {
    const { handlers, journal } = stepHandlers("stepm");
    const bus = new InMemoryBus(handlers);
    const failing = bus.emit({ event_type: "stepm.ordered", aggregate_type: "test", aggregate_id: uuid(), payload: { fail_first: true } });
    const refused = bus.emit({ event_type: "stepm.ordered", aggregate_type: "test", aggregate_id: uuid(), payload: { refuse: true } });
    const reminded = bus.emit({ event_type: "stepm.reminded", aggregate_type: "test", aggregate_id: uuid(), payload: {} });
    await bus.drain();
    await bus.drain();
    expect(bus.attempts(failing.eventId).map(statuses)).toEqual([
      ["confirm:waiting", "count:success", "notify:success", "reserve:failed", "ship:waiting"],
      ["confirm:success", "count:skipped", "notify:skipped", "reserve:success", "ship:success"],
    ]);
    expect(bus.status(failing.eventId)).toBe("completed");
    expect(bus.status(refused.eventId)).toBe("dead");
    expect(bus.attempts(refused.eventId).map(statuses)).toEqual([["confirm:blocked", "count:success", "notify:success", "reserve:failed", "ship:blocked"]]);
    expect(bus.attempts(reminded.eventId).map(statuses)).toEqual([["confirm:success"]]);
    before(journal, "reserve:end:2", "confirm:start:2");
    before(journal, "confirm:end:2", "ship:start:2");
    expect(journal.filter((j) => j.startsWith("confirm:start"))).toEqual(["confirm:start:1", "confirm:start:2"]); // reminded, then the retry
  });
});

describe("what a route waits for, in the database", () => {
  it("is synced from the code's after, and rewritten when the code changes", async () => {
    const noop = async () => {};
    const a = defineHandler("stepsync.a", noop, { on: ["stepsync.x"] });
    const b = defineHandler("stepsync.b", noop, { on: ["stepsync.x", "stepsync.y"], after: ["stepsync.a"] });
    await syncRoutes(sql, "stepsync", [a, b]);
    const rows = () => sql`select event_pattern, handler_name, after_handlers from feyxa.event_subscriptions where managed_by = 'stepsync' order by 1, 2`;
    expect(await rows()).toEqual([
      { event_pattern: "stepsync.x", handler_name: "stepsync.a", after_handlers: [] },
      { event_pattern: "stepsync.x", handler_name: "stepsync.b", after_handlers: ["stepsync.a"] },
      { event_pattern: "stepsync.y", handler_name: "stepsync.b", after_handlers: ["stepsync.a"] },
    ]);
    await syncRoutes(sql, "stepsync", [a, defineHandler("stepsync.b", noop, { on: ["stepsync.x", "stepsync.y"] })]);
    expect((await rows()).map((r) => r.after_handlers)).toEqual([[], [], []]);
  });

  it("an operator's route can wait too: a handler with no after in code runs after the one its row names", async () => {
    const journal: string[] = [];
    const slow = defineHandler("stepop.first", async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      journal.push("first");
    });
    const next = defineHandler("stepop.second", async () => void journal.push("second"));
    await subscribe(sql, "stepop.done", "stepop.first", "stepop.second");
    await sql`update feyxa.event_subscriptions set after_handlers = '{stepop.first}' where handler_name = 'stepop.second'`;
    const bus = testBus(sql, [slow, next]);
    const { eventId } = await bus.emit({ event_type: "stepop.done", aggregate_type: "test", aggregate_id: uuid() });
    await bus.drainOnce(10);
    expect(journal).toEqual(["first", "second"]);
    expect((await eventRow(sql, eventId)).status).toBe("completed");
  });

  it("refuses a route that waits for itself or a name that is no handler's", async () => {
    await expect(sql`update feyxa.event_subscriptions set after_handlers = '{stepop.second}' where handler_name = 'stepop.second'`)
      .rejects.toMatchObject({ code: "23514" });
    await expect(sql`update feyxa.event_subscriptions set after_handlers = '{Not a name}' where handler_name = 'stepop.second'`)
      .rejects.toMatchObject({ code: "23514" });
  });
});

describe("a cycle of after", () => {
  const noop = async () => {};
  const cyclic = () => [
    defineHandler("cycle.a", noop, { on: ["cycle.x"], after: ["cycle.c"] }),
    defineHandler("cycle.b", noop, { on: ["cycle.x"], after: ["cycle.a"] }),
    defineHandler("cycle.c", noop, { on: ["cycle.x"], after: ["cycle.b"] }),
  ];

  it("is refused where handlers are registered, naming it", async () => {
    const message = "the handlers' after forms a cycle: cycle.a -> cycle.c -> cycle.b -> cycle.a; none of them could ever run";
    expect(() => new Bus({ sql, handlers: cyclic() })).toThrow(message);
    expect(() => new InMemoryBus(cyclic())).toThrow(message);
    await expect(syncRoutes(sql, "cycle", cyclic())).rejects.toThrow(message);
    expect(() => defineHandler("cycle.self", noop, { after: ["cycle.self"] })).toThrow("cycle.self: a handler cannot run after itself");
    expect(() => defineHandler("cycle.typo", noop, { after: ["no dot"] })).toThrow("after names no dot, which is not a handler name");
    expect(() => new InMemoryBus([defineHandler("cycle.lonely", noop, { after: ["cycle.nobody"] })]))
      .toThrow("cycle.lonely runs after cycle.nobody, which no handler registered with it is named");
  });

  it("is refused by sync_routes itself, whoever calls it", async () => {
    const routes = [
      { event_pattern: "cycle.x", handler_name: "cycle.a", after: ["cycle.b"] },
      { event_pattern: "cycle.x", handler_name: "cycle.b", after: ["cycle.a"] },
    ];
    await expect(sql`select feyxa.sync_routes('cycle', ${sql.json(routes)})`)
      .rejects.toMatchObject({ code: "22023", message: "the routes' after forms a cycle: cycle.a -> cycle.b -> cycle.a" });
    await expect(sql`select feyxa.sync_routes('cycle', ${sql.json([{ event_pattern: "cycle.x", handler_name: "cycle.a", after: "cycle.b" }])})`)
      .rejects.toMatchObject({ code: "22023" });
  });

  it("made by operators' rows, fails the handlers caught in it (retriable) instead of hanging the attempt", async () => {
    const a = defineHandler("opcycle.a", noop);
    const b = defineHandler("opcycle.b", noop);
    const free = defineHandler("opcycle.free", noop);
    await subscribe(sql, "opcycle.x", "opcycle.a", "opcycle.b", "opcycle.free");
    await sql`update feyxa.event_subscriptions set after_handlers = '{opcycle.b}' where handler_name = 'opcycle.a'`;
    await sql`update feyxa.event_subscriptions set after_handlers = '{opcycle.a}' where handler_name = 'opcycle.b'`;
    const bus = testBus(sql, [a, b, free]);
    const { eventId } = await bus.emit({ event_type: "opcycle.x", aggregate_type: "test", aggregate_id: uuid() });
    await bus.drainOnce(10);
    const runs = await handlerRows(sql, eventId);
    expect(summary(runs, "opcycle")).toEqual(["a:failed", "b:failed", "free:success"]);
    expect(runs[0].error_message).toContain("in or behind a cycle among opcycle.a, opcycle.b");
    expect((await eventRow(sql, eventId)).status).toBe("failed");
  });
});
