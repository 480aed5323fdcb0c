import { SpanKind } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { serverFunctions } from "../../support/auth.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { openShop } from "../../support/marketplace.ts";
import { installTracing, parentIdOf, spanIdOf, traceIdOf } from "../../support/tracing.ts";

const { sql } = await useDatabase();
const tracing = installTracing();
const bus = testBus(sql, engineHandlers());
const gateway = createGateway(serverFunctions(bus));
const shop = await openShop(sql, [{ name: "Lamp", price: 12_000, stock: 5 }]);

const call = (fn: string, body: unknown) =>
  gateway(new Request(`http://localhost:54321/functions/v1/${fn}`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  }));

describe("one order through checkout is one connected trace", () => {
  it("from the checkout request, through the event stored by SQL, to every handler run of its attempt", async () => {
    const placed = await call("checkout", {
      store_id: shop.storeId, customer_email: "ada@example.com", payment_method: "card",
      items: [{ product_id: shop.products.Lamp, quantity: 1 }],
    });
    expect(placed.status).toBe(201);
    const order = await placed.json();
    const processed = await (await call("process-event", { event_id: order.event_id })).json();
    expect(processed).toMatchObject({ status: "completed" });

    const spans = tracing.spans();
    const request = spans.find((s) => s.name === "POST /functions/v1/checkout")!;
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.parentSpanContext).toBeUndefined();
    expect(request.attributes["http.response.status_code"]).toBe(201);
    const [stored] = await sql`select trace_parent from feyxa.events_log where id = ${order.event_id}::uuid`;
    expect(stored.trace_parent).toBe(`00-${traceIdOf(request)}-${spanIdOf(request)}-01`);

    const attempt = spans.find((s) => s.name === "feyxa.attempt order.created")!;
    expect(traceIdOf(attempt)).toBe(traceIdOf(request));
    expect(parentIdOf(attempt)).toBe(spanIdOf(request));
    const claimer = spans.find((s) => s.name === "POST /functions/v1/process-event")!;
    expect(attempt.links.map((l) => [l.attributes?.["feyxa.link"], l.context.spanId])).toEqual([
      ["emitter", spanIdOf(request)],
      ["claimer", spanIdOf(claimer)],
    ]);
    expect(attempt.attributes).toMatchObject({ "feyxa.event.id": order.event_id, "feyxa.tenant.id": shop.storeId, "feyxa.outcome": "completed" });

    const ran = processed.handlers.filter((h: { status: string }) => h.status !== "skipped").map((h: { handler_name: string }) => h.handler_name).sort();
    expect(ran.length).toBeGreaterThan(3);
    const handlerSpans = spans.filter((s) => s.name.startsWith("feyxa.handler ") && s.attributes["feyxa.event.id"] === order.event_id);
    expect(handlerSpans.map((s) => s.attributes["feyxa.handler"]).sort()).toEqual(ran);
    for (const span of handlerSpans) {
      expect(traceIdOf(span)).toBe(traceIdOf(request));
      expect(parentIdOf(span)).toBe(spanIdOf(attempt));
    }
  });

  it("a caller's traceparent header makes the request a child of the caller's trace", async () => {
    tracing.reset();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await gateway(new Request("http://localhost:54321/functions/v1/checkout", {
      method: "POST", headers: { "content-type": "application/json", traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ store_id: shop.storeId, customer_email: "bo@example.com", payment_method: "card", items: [{ product_id: shop.products.Lamp, quantity: 1 }] }),
    }));
    const request = tracing.spans().find((s) => s.name === "POST /functions/v1/checkout")!;
    expect(traceIdOf(request)).toBe(traceId);
    expect(parentIdOf(request)).toBe("00f067aa0ba902b7");
  });
});
