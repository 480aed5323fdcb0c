/** What one handler run is given (HandlerContext), and its timeout's signal, without a database. */
import { describe, expect, it } from "vitest";
import { contextForPart, defineHandler } from "../../src/bus/define-handler.ts";
import { HandlerTimeoutError } from "../../src/bus/errors.ts";
import type { RoutedHandlers } from "../../src/bus/router.ts";
import { runAttempt } from "../../src/bus/run-attempt.ts";
import type { ClaimedEvent, Handler, HandlerContext, Sql } from "../../src/bus/types.ts";

const sql = {} as Sql; // never queried: no route here has a rate limit
const event: ClaimedEvent = {
  id: "3f0c6a52-6f4e-4a49-9d0e-0d6f1f4b8a11", type: "order.created", aggregateType: "order", aggregateId: "o-1",
  tenantId: null, payload: {}, idempotencyKey: "order-1", attempt: 1, retryCount: 0, maxRetries: 3,
  createdAt: new Date(), succeededHandlers: [], causationId: null, correlationId: "3f0c6a52-6f4e-4a49-9d0e-0d6f1f4b8a11",
};
const routeTo = (...names: string[]): RoutedHandlers => ({ names, after: new Map(), rateLimits: new Set(), paused: new Set() });
const attempt = (...handlers: Handler[]) =>
  runAttempt(event, routeTo(...handlers.map((h) => h.name)), { sql, handlers: new Map(handlers.map((h) => [h.name, h])), defaultTimeoutMs: 5_000 });
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("an attempt", () => {
  it("describes every run in the route's order, whichever ends first, those that never ran included", async () => {
    const after = (ms: number) => async () => { await wait(ms); };
    const route: RoutedHandlers = { ...routeTo("a.slow", "a.done", "a.paused", "a.fast", "a.unknown"), paused: new Set(["a.paused"]) };
    const handlers = [defineHandler("a.slow", after(30)), defineHandler("a.done", after(0)), defineHandler("a.fast", after(1))];
    const result = await runAttempt({ ...event, succeededHandlers: ["a.done"] }, route, { sql, handlers: new Map(handlers.map((h) => [h.name, h])), defaultTimeoutMs: 5_000 });
    expect(result.handlers.map((run) => [run.handler_name, run.status])).toEqual([
      ["a.slow", "success"], ["a.done", "skipped"], ["a.paused", "deferred"], ["a.fast", "success"], ["a.unknown", "failed"],
    ]);
  });

  it("with no handler routed, ends at once with no run", async () => {
    expect((await attempt()).handlers).toEqual([]);
  });

  it("fails whole when a rate limit's token cannot be read, and the other runs still end", async () => {
    const lost = new Error("connection lost");
    const failing = (() => Promise.reject(lost)) as unknown as Sql;
    let othersEnded = 0;
    const handlers = [defineHandler("a.limited", async () => {}), defineHandler("a.free", async () => { othersEnded++; })];
    const route: RoutedHandlers = { ...routeTo("a.limited", "a.free"), rateLimits: new Set(["a.limited"]) };
    await expect(runAttempt(event, route, { sql: failing, handlers: new Map(handlers.map((h) => [h.name, h])), defaultTimeoutMs: 5_000 })).rejects.toBe(lost);
    expect(othersEnded).toBe(1);
  });
});

describe("a handler run's context", () => {
  it("carries the database, the run's name and its key, event id and handler name", async () => {
    let seen: HandlerContext | undefined;
    const result = await attempt(defineHandler("commerce.note", async (_event, ctx) => { seen = ctx; }));
    expect(result.handlers).toMatchObject([{ handler_name: "commerce.note", status: "success" }]);
    expect(seen).toMatchObject({ sql, handlerName: "commerce.note", idempotencyKey: `${event.id}:commerce.note` });
    expect(seen!.signal.aborted).toBe(false);
  });

  it("aborts the signal a handler holds when its timeout passes, with the timeout as the reason, and fails the run", async () => {
    let held: AbortSignal | undefined;
    const result = await attempt(defineHandler("logistics.slow", async (_event, ctx) => {
      held = ctx.signal;
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    }, { timeoutMs: 30 }));
    expect(held!.aborted).toBe(true);
    expect(held!.reason).toBeInstanceOf(HandlerTimeoutError);
    expect(result.handlers[0]).toMatchObject({ status: "failed", error_message: expect.stringContaining("timed out after 30 ms") });
  });

  it("gives a signal already aborted to a handler that reads it only after its timeout, and to each part of the run", async () => {
    let late: AbortSignal | undefined;
    let part: HandlerContext | undefined;
    const result = await attempt(defineHandler("trust.late", async (_event, ctx) => {
      part = contextForPart(ctx, "buyer@example.com");
      await wait(60);
      late = ctx.signal;
    }, { timeoutMs: 20 }));
    expect(result.handlers[0]).toMatchObject({ status: "failed" });
    await wait(50); // the handler goes on after its run was settled as timed out
    expect(late!.aborted).toBe(true);
    expect(part!.signal.aborted).toBe(true);
    expect(part!.idempotencyKey).toBe(`${event.id}:trust.late:buyer@example.com`);
    expect(part!.handlerName).toBe("trust.late");
  });
});
