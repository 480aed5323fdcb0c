import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import { describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/bus/dispatcher.ts";
import { parseAllowList } from "../../../src/bus/outbound.ts";
import { tracingOn } from "../../../src/bus/telemetry/tracing.ts";
import { remoteDelivery } from "../../../src/bus/webhooks/remote-handler.ts";
import { countingHandler, emitTest, SlowClaimsBus, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { drain } from "../../support/marketplace.ts";
import { startReceiver } from "../../support/receiver.ts";
import { installTracing, parentIdOf, spanIdOf, traceIdOf } from "../../support/tracing.ts";

const { sql } = await useDatabase();
const tracingBeforeSdk = tracingOn();
const tracing = installTracing();

const ok = countingHandler("trace.ok");
const broken = countingHandler("trace.broken", () => new Error("card declined"));
const bus = testBus(sql, [ok.handler, broken.handler]);
await subscribe(sql, "traced.happened", "trace.ok", "trace.broken");
await subscribe(sql, "traced.quiet", "trace.ok");

const storedTraceParent = async (id: string) =>
  (await sql<{ trace_parent: string | null }[]>`select trace_parent from feyxa.events_log where id = ${id}::uuid`)[0].trace_parent;

describe("traces through the bus (a real SDK, in-memory exporter)", () => {
  it("is a no-op until an SDK registers a provider", () => {
    expect(tracingBeforeSdk).toBe(false);
    expect(tracingOn()).toBe(true);
  });

  it("an emit from TypeScript stores its span's traceparent; the attempt continues that trace, linked to it, with a child per handler run", async () => {
    tracing.reset();
    const id = await trace.getTracer("test").startActiveSpan("request", async (root) => {
      try {
        return await emitTest(bus, "traced.happened", { n: 1 });
      } finally {
        root.end();
      }
    });
    const emitSpan = tracing.spans().find((s) => s.name === "feyxa.emit traced.happened")!;
    expect(emitSpan.kind).toBe(SpanKind.PRODUCER);
    const root = tracing.spans().find((s) => s.name === "request")!;
    expect(parentIdOf(emitSpan)).toBe(spanIdOf(root));
    expect(await storedTraceParent(id)).toBe(`00-${traceIdOf(emitSpan)}-${spanIdOf(emitSpan)}-01`);

    await drain(bus);
    const attempt = tracing.spans().find((s) => s.name === "feyxa.attempt traced.happened")!;
    expect(attempt.kind).toBe(SpanKind.CONSUMER);
    expect(traceIdOf(attempt)).toBe(traceIdOf(root));
    expect(parentIdOf(attempt)).toBe(spanIdOf(emitSpan));
    expect(attempt.links.map((l) => l.context.spanId)).toContain(spanIdOf(emitSpan));
    expect(attempt.attributes).toMatchObject({
      "feyxa.event.id": id, "feyxa.event.type": "traced.happened", "feyxa.aggregate.type": "test", "feyxa.attempt": 1, "feyxa.outcome": "failed",
    });
    expect(attempt.status.code).toBe(SpanStatusCode.ERROR);

    const handlers = tracing.spans().filter((s) => s.name.startsWith("feyxa.handler "));
    expect(handlers.map((s) => s.name).sort()).toEqual(["feyxa.handler trace.broken", "feyxa.handler trace.ok"]);
    for (const h of handlers) {
      expect(parentIdOf(h)).toBe(spanIdOf(attempt));
      expect(traceIdOf(h)).toBe(traceIdOf(root));
      expect(h.attributes).toMatchObject({ "feyxa.event.id": id, "feyxa.handler": h.name.slice("feyxa.handler ".length), "feyxa.attempt": 1 });
    }
    const failed = handlers.find((s) => s.name === "feyxa.handler trace.broken")!;
    expect(failed.attributes["feyxa.outcome"]).toBe("failed");
    expect(failed.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "card declined" });
    expect(failed.events.find((e) => e.name === "exception")?.attributes).toMatchObject({ "exception.message": "card declined" });
    expect(handlers.find((s) => s.name === "feyxa.handler trace.ok")!.attributes["feyxa.outcome"]).toBe("success");
  });

  it("an event emitted by SQL outside a traced transaction has no traceparent, and its attempt starts a trace of its own", async () => {
    tracing.reset();
    const [{ id }] = await sql<{ id: string }[]>`
      select feyxa.emit_event('traced.quiet', 'test', ${uuid()}::uuid, null, '{}'::jsonb, null) as id`;
    expect(await storedTraceParent(id)).toBeNull();
    await drain(bus);
    const attempt = tracing.spans().find((s) => s.name === "feyxa.attempt traced.quiet")!;
    expect(attempt.parentSpanContext).toBeUndefined();
    expect(attempt.links).toEqual([]);
    expect(tracing.spans().find((s) => s.name === "feyxa.handler trace.ok")!.parentSpanContext?.spanId).toBe(spanIdOf(attempt));
  });

  it("an attempt's span runs from its claim to its completion: a slow claim is inside it, by drainOnce and by the dispatcher", async () => {
    const CLAIM_MS = 150;
    const slow = new SlowClaimsBus({ sql, handlers: [ok.handler] }, CLAIM_MS);
    const attemptOf = (id: string) => tracing.spans().find((s) => s.name === "feyxa.attempt traced.quiet" && s.attributes["feyxa.event.id"] === id);
    tracing.reset();
    const drained = await emitTest(slow, "traced.quiet");
    expect(await slow.drainOnce(10)).toHaveLength(1);
    const dispatched = await emitTest(slow, "traced.quiet");
    const dispatcher = new Dispatcher(slow, { listen: false, pollIntervalMs: 20 });
    await dispatcher.start();
    for (let i = 0; i < 100 && !attemptOf(dispatched); i++) await new Promise((r) => setTimeout(r, 20));
    await dispatcher.stop();
    for (const id of [drained, dispatched]) {
      const attempt = attemptOf(id)!;
      expect(attempt.ended).toBe(true);
      expect(hrTimeToMilliseconds(attempt.duration)).toBeGreaterThanOrEqual(CLAIM_MS - 5); // timers may fire a hair early
    }
  });

  it("a malformed feyxa.traceparent setting is stored as null, and the emit still succeeds", async () => {
    const id = await sql.begin(async (tx) => {
      await tx`select set_config('feyxa.traceparent', 'not a traceparent', true)`;
      const [row] = await tx<{ id: string }[]>`select feyxa.emit_event('traced.quiet', 'test', ${uuid()}::uuid, null, '{}'::jsonb, null) as id`;
      return row.id;
    });
    expect(await storedTraceParent(id)).toBeNull();
  });

  it("a webhook delivery is a CLIENT span under its handler run, and the request carries its traceparent", async () => {
    await sql`update feyxa.event_bus_settings set outbound_allow = '{127.0.0.1}'`;
    const receiver = await startReceiver();
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
              values ('traced.hooked', 'hooks.receiver', 'url', ${`${receiver.base}/hook`})`;
    const remote = testBus(sql, [remoteDelivery({ timeoutMs: 2_000, outbound: { allow: parseAllowList("127.0.0.1") } })]);
    tracing.reset();
    await emitTest(remote, "traced.hooked");
    await drain(remote);
    const delivery = tracing.spans().find((s) => s.name === "webhook POST hooks.receiver")!;
    expect(delivery.kind).toBe(SpanKind.CLIENT);
    expect(delivery.attributes["http.response.status_code"]).toBe(200);
    const handler = tracing.spans().find((s) => s.name === "feyxa.handler hooks.receiver")!;
    expect(parentIdOf(delivery)).toBe(spanIdOf(handler));
    expect(receiver.received[0].headers.traceparent).toBe(`00-${traceIdOf(delivery)}-${spanIdOf(delivery)}-01`);
  });
});
