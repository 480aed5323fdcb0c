import { describe, expect, it } from "vitest";
import { emit } from "../../../src/marketplace/engines/emit.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { serverFunctions, testFunctions } from "../../support/auth.ts";
import { useDatabase } from "../../support/database.ts";
import { testBus, uuid } from "../../support/bus.ts";
import { openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const gateway = createGateway(serverFunctions(bus));
const shop = await openShop(sql, [
  { name: "Chair", price: 45_000, stock: 4 }, { name: "Lamp", price: 9_000, stock: 2 }, { name: "Stool", price: 5_000, stock: 0, backorder: true },
]);

const call = (fn: string, body: unknown) =>
  gateway(new Request(`http://localhost:54321/functions/v1/${fn}`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  }));
const cart = (over: Record<string, unknown> = {}) => ({
  store_id: shop.storeId, customer_email: "ada@example.com", payment_method: "mobile_money",
  items: [{ product_id: shop.products.Chair, quantity: 1 }], ...over,
});
const orders = async () => (await sql`select count(*)::int as n from orders`)[0].n as number;

describe("checkout, then process-event for the order's event", () => {
  it("places the order and lets the page read what each engine did", async () => {
    const res = await call("checkout", cart({ attribution: { utm_source: "tiktok" } }));
    expect(res.status).toBe(201);
    const order = await res.json();
    expect(order).toMatchObject({ total_minor: 45_000, currency: "XOF", order_number: expect.stringMatching(/^FX-/) });

    const processed = await (await call("process-event", { event_id: order.event_id })).json();
    expect(processed).toMatchObject({ event_id: order.event_id, status: "completed" });
    expect(processed.handlers.map((h: { handler_name: string }) => h.handler_name)).toContain("fintech.create_escrow");
    // Asking again creates nothing and runs nothing: it reports.
    const again = await (await call("process-event", { event_id: order.event_id })).json();
    expect(again).toMatchObject({ processed: false, status: "completed" });
    expect((await sql`select count(*)::int as n from escrows where order_id = ${order.order_id}`)[0].n).toBe(1);
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ["an unknown store", { store_id: uuid() }, "store_id"],
    ["a product of no store", { items: [{ product_id: uuid(), quantity: 1 }] }, "items"],
    ["a zero quantity", { items: [{ product_id: shop.products.Chair, quantity: 0 }] }, "items.0.quantity"],
    ["an empty cart", { items: [] }, "items"],
    ["a bad email", { customer_email: "ada" }, "customer_email"],
    ["an unknown payment method", { payment_method: "iou" }, "payment_method"],
  ];
  for (const [what, over, field] of bad) {
    it(`rejects ${what} with 400 naming ${field}, placing nothing`, async () => {
      const before = await orders();
      const res = await call("checkout", cart(over));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ field });
      expect(await orders()).toBe(before);
    });
  }
});

describe("checkout refuses more than the stock before ordering", () => {
  it("answers 409 naming the short line's quantity, with the product and what is left, placing nothing", async () => {
    const before = await orders();
    const res = await call("checkout", cart({ items: [
      { product_id: shop.products.Chair, quantity: 1 }, { product_id: shop.products.Lamp, quantity: 3 },
    ] }));
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: "out_of_stock", field: "items.1.quantity", message: "Lamp: only 2 in stock" });
    expect(await orders()).toBe(before);
  });

  it("takes exactly the stock, and a back-ordered product whatever its stock", async () => {
    const res = await call("checkout", cart({ items: [
      { product_id: shop.products.Lamp, quantity: 2 }, { product_id: shop.products.Stool, quantity: 5 },
    ] }));
    expect(res.status).toBe(201);
  });
});

describe("the event catalog", () => {
  it("process-event rejects a catalogued event whose payload does not match, naming the field", async () => {
    const res = await call("process-event", {
      event_type: "order.created", aggregate_type: "order", aggregate_id: uuid(),
      payload: { order_number: "X", total_minor: 10, currency: "XOF", customer_email: "not-an-email", items: [], payment_method: "card" },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: "payload.customer_email" });
  });

  it("typed emit checks the payload before the database sees it", async () => {
    // @ts-expect-error: amount_minor must be a number (the catalog types emit)
    const bad = emit(bus, "payout.requested", { aggregate_id: uuid(), payload: { amount_minor: "lots", currency: "XOF" } });
    await expect(bad).rejects.toMatchObject({ status: 400, field: "payload.amount_minor" });
    const ok = await emit(bus, "delivery.delivered", { aggregate_id: uuid(), payload: { order_id: uuid() } });
    expect(ok.inserted).toBe(true);
    const [row] = await sql`select aggregate_type from feyxa.events_log where id = ${ok.eventId}`;
    expect(row.aggregate_type).toBe("delivery");
  });
});

describe("confirm-delivery", () => {
  const guest = createGateway(testFunctions(bus)); // no credentials: a guest
  const asGuest = (body: unknown) => guest(new Request("http://localhost:54321/functions/v1/confirm-delivery", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  }));
  it("refuses an order not yet delivered (409) and a stranger's email (404)", async () => {
    const order = await (await call("checkout", cart())).json();
    const early = await asGuest({ order_id: order.order_id, customer_email: "ada@example.com" });
    expect(early.status).toBe(409);
    expect((await early.json()).message).toContain("can be confirmed once delivered");
    const stranger = await asGuest({ order_id: order.order_id, customer_email: "eve@example.com" });
    expect(stranger.status).toBe(404);
  });
});
