/**
 * The buyer's mail, end to end through the bus with every engine handler routed as the
 * marketplace routes them. Ordering three of an item with one in stock cancels the order;
 * the buyer used to receive "Thank you for your order … your payment is held in escrow"
 * anyway, because commerce.send_confirmation_email ran at the same time as
 * commerce.decrement_stock and won the race. Now it runs after the reservation (`after`), so
 * the refusal blocks it, and order.cancelled brings the buyer a cancellation notice instead.
 * The same steps hold the escrow's release until the delivery is recorded.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { Dispatcher } from "../../../src/bus/dispatcher.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { eventRow, handlerRows, testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());

/** What the buyer received, oldest first. */
const inbox = (email: string) => sql<{ subject: string; html: string }[]>`
  select subject, html from email_outbox where to_email = ${email} order by created_at, subject`;

describe("an order out of stock", () => {
  it("is cancelled, and the buyer gets the cancellation notice, never a confirmation", async () => {
    const shop = await openShop(sql, [{ name: "Rare vase", price: 45_000, stock: 1 }]);
    const order = await checkout(sql, shop, { "Rare vase": 3 }, { email: "unlucky@example.com" });
    await drain(bus);

    const [state] = await sql`select status, cancel_reason from orders where id = ${order.order_id}`;
    expect(state).toEqual({ status: "cancelled", cancel_reason: "out of stock: Rare vase: 3 wanted, 1 in stock" });
    const mail = await inbox("unlucky@example.com");
    const [store] = await sql`select name from stores where id = ${shop.storeId}`;
    expect(mail.map((m) => m.subject)).toEqual([`Your order ${order.order_number} at ${store.name} was cancelled`]);
    expect(mail[0].html).toContain("out of stock: Rare vase: 3 wanted, 1 in stock");
    expect(mail.some((m) => m.html.includes("Thank you for your order"))).toBe(false);

    const created = await handlerRows(sql, order.event_id);
    expect(created.filter((r) => r.handler_name.startsWith("commerce.")).map((r) => `${r.handler_name}:${r.status}`)).toEqual([
      "commerce.create_notification:success", "commerce.decrement_stock:failed", "commerce.send_confirmation_email:blocked",
    ]);
    expect((await eventRow(sql, order.event_id)).status).toBe("dead");
    const [cancelled] = await sql`select id, status from feyxa.events_log where event_type = 'order.cancelled' and aggregate_id = ${order.order_id}`;
    expect(cancelled.status).toBe("completed");
    expect((await handlerRows(sql, cancelled.id)).map((r) => `${r.handler_name}:${r.status}`))
      .toContain("commerce.send_cancellation_email:success");
  });

  it("many at once through the dispatcher: every refused buyer is told, none thanked; every served buyer thanked once", async () => {
    const shop = await openShop(sql, [{ name: "Lamp", price: 9_000, stock: 5 }]);
    // Ten buyers of one each: five get a lamp, five are refused, all handled concurrently.
    const orders = [];
    for (let i = 0; i < 10; i++) orders.push(await checkout(sql, shop, { Lamp: 1 }, { email: `buyer${i}@lamps.example` }));
    const dispatcher = new Dispatcher(testBus(sql, engineHandlers()), { batchSize: 20, pollIntervalMs: 50, onError: () => {} });
    await dispatcher.start();
    onTestFinished(() => dispatcher.stop());
    await expect.poll(async () => {
      const [{ open }] = await sql`select count(*)::int as open from feyxa.events_log where tenant_id = ${shop.storeId}::uuid and status not in ('completed', 'dead')`;
      return open;
    }, { timeout: 20_000, interval: 50 }).toBe(0);

    const fates = await sql<{ email: string; status: string; thanked: number; told: number }[]>`
      select o.customer_email as email, o.status,
             (select count(*)::int from email_outbox m where m.to_email = o.customer_email and m.html like '%Thank you for your order%') as thanked,
             (select count(*)::int from email_outbox m where m.to_email = o.customer_email and m.subject like '%was cancelled') as told
      from orders o where o.store_id = ${shop.storeId}::uuid order by 1`;
    expect(fates.filter((f) => f.status === "cancelled").map((f) => [f.thanked, f.told])).toEqual(Array(5).fill([0, 1]));
    expect(fates.filter((f) => f.status !== "cancelled").map((f) => [f.thanked, f.told])).toEqual(Array(5).fill([1, 0]));
  });
});

describe("the escrow's release", () => {
  it("waits for the delivery to be recorded on delivery.delivered; delivery.confirmed has no such step", async () => {
    const routes = await sql<{ event_pattern: string; after_handlers: string[] }[]>`
      select event_pattern, after_handlers from feyxa.event_subscriptions where handler_name = 'fintech.release_escrow' order by 1`;
    expect(routes).toEqual([
      { event_pattern: "delivery.confirmed", after_handlers: ["logistics.mark_delivered"] },
      { event_pattern: "delivery.delivered", after_handlers: ["logistics.mark_delivered"] },
    ]);
    const route = await bus.router.routeFor("delivery.confirmed");
    expect(route.names).not.toContain("logistics.mark_delivered"); // so the prerequisite is ignored there

    const shop = await openShop(sql, [{ name: "Chair", price: 20_000, stock: 2 }]);
    const order = await checkout(sql, shop, { Chair: 1 });
    await sql`update payments set status = 'paid', provider_ref = 'pi_steps' where order_id = ${order.order_id}`;
    await drain(bus);
    await sql`update deliveries set status = 'delivered' where order_id = ${order.order_id}`;
    await drain(bus);
    const [delivered] = await sql`select id from feyxa.events_log where event_type = 'delivery.delivered' and payload ->> 'order_id' = ${order.order_id}`;
    expect((await handlerRows(sql, delivered.id)).filter((r) => r.handler_name !== "automations.run").map((r) => `${r.handler_name}:${r.status}`))
      .toEqual(["fintech.release_escrow:success", "logistics.mark_delivered:success"]);
    const [escrow] = await sql`select status from escrows where order_id = ${order.order_id}`;
    expect(escrow.status).toBe("released");
  });
});
