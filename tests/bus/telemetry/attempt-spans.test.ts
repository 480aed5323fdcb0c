/**
 * A handler run's span ends where the run ends: in a promise reaction, or in the shared
 * deadline's timer when it times out. A span processor that throws there (a user's, or a broken
 * exporter's) fails the attempt with its error; nothing escapes unheard (vitest fails a file on
 * an unhandled rejection or an uncaught exception).
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, describe, expect, it } from "vitest";
import { defineHandler } from "../../../src/bus/define-handler.ts";
import type { RoutedHandlers } from "../../../src/bus/router.ts";
import { runAttempt } from "../../../src/bus/run-attempt.ts";
import { startAttemptSpan } from "../../../src/bus/telemetry/attempt-spans.ts";
import type { ClaimedEvent, Handler, Sql } from "../../../src/bus/types.ts";

const broken = new Error("the exporter broke");
const ended: string[] = [];
const throwingOnHandlerSpans: SpanProcessor = {
  onStart: () => {},
  onEnd: (span: ReadableSpan) => {
    ended.push(span.name);
    if (span.name.startsWith("feyxa.handler")) throw broken;
  },
  forceFlush: async () => {},
  shutdown: async () => {},
};
const provider = new BasicTracerProvider({ spanProcessors: [throwingOnHandlerSpans] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const event: ClaimedEvent = {
  id: "8d3c0a4e-2b7f-4f0e-9a51-6c1d2e3f4a5b", type: "order.created", aggregateType: "order", aggregateId: "o-2",
  tenantId: null, payload: {}, idempotencyKey: "order-2", attempt: 1, retryCount: 0, maxRetries: 3,
  createdAt: new Date(), succeededHandlers: [], causationId: null, correlationId: "8d3c0a4e-2b7f-4f0e-9a51-6c1d2e3f4a5b",
};
const traced = (handler: Handler) => {
  const route: RoutedHandlers = { names: [handler.name], after: new Map(), rateLimits: new Set(), paused: new Set() };
  return runAttempt(event, route, { sql: {} as Sql, handlers: new Map([[handler.name, handler]]), defaultTimeoutMs: 5_000 }, startAttemptSpan(event).context);
};

describe("a handler run's span", () => {
  it("ending in a promise reaction: a throwing span processor fails the attempt with its error", async () => {
    ended.length = 0;
    await expect(traced(defineHandler("trust.later", async () => { await new Promise((r) => setTimeout(r, 5)); }))).rejects.toBe(broken);
    expect(ended).toEqual(["feyxa.handler trust.later"]);
  });

  it("ending in the deadline's timer (a timeout): the same, and the timer does not throw", async () => {
    ended.length = 0;
    const hanging = defineHandler("trust.hangs", () => new Promise<void>(() => {}), { timeoutMs: 20 });
    await expect(traced(hanging)).rejects.toBe(broken);
    expect(ended).toEqual(["feyxa.handler trust.hangs"]);
  });
});
