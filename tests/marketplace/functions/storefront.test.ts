/** The storefront's functions, end to end over HTTP: browse, check out, pay, deliver, confirm, watch. */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createDemoFunctions } from "../../../src/marketplace/functions/demo.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { testFunctions } from "../../support/auth.ts";
import { seedDemo } from "../../../src/local/seed-demo.ts";
import { useDatabase } from "../../support/database.ts";
import { testBus, uuid } from "../../support/bus.ts";
import { drain } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const gateway = createGateway({ ...testFunctions(bus), ...createDemoFunctions(bus) });
const get = (path: string) => gateway(new Request(`http://localhost/functions/v1/${path}`));
const post = (fn: string, body: unknown) =>
  gateway(new Request(`http://localhost/functions/v1/${fn}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));

describe("the storefront", () => {
  it("seeds the demo marketplace once", async () => {
    expect(await seedDemo(sql)).toBe(true);
    expect(await seedDemo(sql)).toBe(false);
    const { stores } = await (await get("storefront")).json();
    expect(stores.map((s: { name: string }) => s.name)).toEqual(["Atelier Dakar", "Marché Abidjan"]);
    expect(stores[0].products).toHaveLength(3);
  });

  it("follows one order from checkout to released escrow", async () => {
    const { stores } = await (await get("storefront")).json();
    const store = stores[0];
    const order = await (await post("checkout", {
      store_id: store.id, customer_email: "fatou@example.com", payment_method: "card",
      items: [{ product_id: store.products[0].id, quantity: 2 }],
    })).json();
    await post("process-event", { event_id: order.event_id });
    expect((await post("demo-pay", { order_id: order.order_id })).status).toBe(200);
    expect((await post("demo-pay", { order_id: order.order_id })).status).toBe(409); // paid once
    await drain(bus);
    expect((await post("demo-deliver", { order_id: order.order_id })).status).toBe(200);
    await drain(bus);
    expect((await post("confirm-delivery", { order_id: order.order_id, customer_email: "fatou@example.com" })).status).toBe(200);
    await drain(bus);

    const status = await (await get(`order-status?order_id=${order.order_id}`)).json();
    expect(status.order).toMatchObject({ status: "completed", payment_status: "paid", delivery_status: "confirmed", escrow_status: "released", emails: 1 });
    expect(status.events.map((e: { event_type: string; status: string }) => `${e.event_type}:${e.status}`)).toEqual([
      "order.created:completed", "payment.paid:completed", "delivery.delivered:completed", "delivery.confirmed:completed",
    ]);
    expect(status.events[0].handlers.map((h: { handler_name: string }) => h.handler_name)).toContain("commerce.decrement_stock");
  });

  it("answers 404 for an unknown order and 400 for a malformed id", async () => {
    expect((await get(`order-status?order_id=${uuid()}`)).status).toBe(404);
    const bad = await get("order-status?order_id=42");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: "order_id" });
  });
});
