/**
 * An order is confirmed only once it has its stock, whichever of order.created's handlers
 * runs first and whether or not that attempt crashed. commerce.send_confirmation_email
 * runs beside commerce.decrement_stock; it used to read the order's status, so when it
 * ran before the reservation (in the same attempt, or in one killed afterwards) an order
 * about to be cancelled out of stock was confirmed anyway: in the chaos tier, most
 * refused orders got a confirmation email, with or without kills.
 */
import { describe, expect, it } from "vitest";
import type { ClaimedEvent } from "../../../src/bus/types.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { sendConfirmationEmail } from "../../../src/marketplace/engines/commerce.ts";
import { eventRow, handlerRows, testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const LEASE_MS = 1_000; // the shortest lease a claim takes
const bus = testBus(sql, engineHandlers());
const crashing = testBus(sql, [], { leaseMs: LEASE_MS });
const emailHandler = sendConfirmationEmail({});

/** An attempt in which only the email handler ran, then its worker died: nothing recorded, the lease runs out. */
async function emailAloneThenCrash(eventId: string): Promise<void> {
  const event = await crashing.claimOne(eventId) as ClaimedEvent;
  const name = "commerce.send_confirmation_email";
  await emailHandler.run(event, { sql, handlerName: name, idempotencyKey: `${event.id}:${name}`, signal: new AbortController().signal });
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
}

const outbox = async (eventId: string) =>
  (await sql`select count(*)::int as n from email_outbox where dedupe_key = ${`${eventId}:commerce.send_confirmation_email`}`)[0].n;

describe("a confirmation email waits for the stock decision", () => {
  it("an order the email handler reached first, then crashed, is refused out of stock: no confirmation, dead with the reason", async () => {
    const shop = await openShop(sql, [{ name: "Rare", price: 50_000, stock: 1 }]);
    const order = await checkout(sql, shop, { Rare: 2 });
    await emailAloneThenCrash(order.event_id);

    await drain(bus);
    expect(await outbox(order.event_id)).toBe(0);
    const event = await eventRow(sql, order.event_id);
    expect(event.status).toBe("dead");
    expect(event.error_message).toBe("not retriable: commerce.decrement_stock: NonRetriableError: out of stock: Rare: 2 wanted, 1 in stock");
    const [state] = await sql`select status, (select stock from products where id = ${shop.products.Rare}) as stock from orders where id = ${order.order_id}`;
    expect(state).toEqual({ status: "cancelled", stock: 1 });
  });

  it("an order in stock that the email handler reached first is reserved once and confirmed once", async () => {
    const shop = await openShop(sql, [{ name: "Lamp", price: 9_000, stock: 3 }]);
    const order = await checkout(sql, shop, { Lamp: 2 });
    await emailAloneThenCrash(order.event_id);

    await drain(bus);
    expect(await outbox(order.event_id)).toBe(1);
    expect((await eventRow(sql, order.event_id)).status).toBe("completed");
    const runs = (await handlerRows(sql, order.event_id)).filter((r) => r.handler_name.startsWith("commerce."));
    expect(runs.map((r) => `${r.handler_name}:${r.status}`)).toEqual([
      "commerce.create_notification:success", "commerce.decrement_stock:success", "commerce.send_confirmation_email:success",
    ]);
    const [stock] = await sql`select stock, (select count(*)::int from stock_movements where order_id = ${order.order_id}) as movements
                              from products where id = ${shop.products.Lamp}`;
    expect(stock).toEqual({ stock: 1, movements: 1 });
  });

  it("an order cancelled for another reason gets no confirmation", async () => {
    const shop = await openShop(sql, [{ name: "Vase", price: 9_000, stock: 3 }]);
    const order = await checkout(sql, shop, { Vase: 1 });
    await sql`update orders set status = 'cancelled', cancel_reason = 'buyer changed their mind' where id = ${order.order_id}`;
    await drain(bus);
    expect(await outbox(order.event_id)).toBe(0);
    expect((await eventRow(sql, order.event_id)).status).toBe("completed");
  });
});
