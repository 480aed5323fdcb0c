/**
 * An order is confirmed only once it has its stock, whether or not an attempt crashed.
 * commerce.send_confirmation_email used to run beside commerce.decrement_stock and read the
 * order's status, so when it ran before the reservation (in the same attempt, or in one
 * killed afterwards) an order about to be cancelled out of stock was confirmed anyway: in
 * the chaos tier, most refused orders got a confirmation email, with or without kills. It
 * now runs after decrement_stock (src/bus/steps.ts): here, an attempt runs both, in that
 * order, and its worker dies before recording anything; the next attempt decides the same.
 */
import { describe, expect, it } from "vitest";
import { runAttempt } from "../../../src/bus/run-attempt.ts";
import type { ClaimedEvent } from "../../../src/bus/types.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { eventRow, handlerRows, testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const LEASE_MS = 1_000; // the shortest lease a claim takes
const bus = testBus(sql, engineHandlers());
const crashing = testBus(sql, engineHandlers(), { leaseMs: LEASE_MS });
const handlers = new Map(engineHandlers().map((h) => [h.name, h]));

/** An attempt whose handlers all ran (in their steps), then its worker died: nothing recorded, the lease runs out. */
async function attemptThenCrash(eventId: string): Promise<void> {
  const event = await crashing.claimOne(eventId) as ClaimedEvent;
  const route = await crashing.router.routeFor(event.type);
  await runAttempt(event, route, { sql, handlers, defaultTimeoutMs: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
}

const outbox = async (eventId: string) =>
  (await sql`select count(*)::int as n from email_outbox where dedupe_key = ${`${eventId}:commerce.send_confirmation_email`}`)[0].n;

describe("a confirmation email waits for the stock decision", () => {
  it("an order whose attempt crashed after its handlers ran is refused out of stock: no confirmation, dead with the reason", async () => {
    const shop = await openShop(sql, [{ name: "Rare", price: 50_000, stock: 1 }]);
    const order = await checkout(sql, shop, { Rare: 2 });
    await attemptThenCrash(order.event_id);

    await drain(bus);
    expect(await outbox(order.event_id)).toBe(0);
    const event = await eventRow(sql, order.event_id);
    expect(event.status).toBe("dead");
    expect(event.error_message).toBe("not retriable: commerce.decrement_stock: NonRetriableError: out of stock: Rare: 2 wanted, 1 in stock");
    const [state] = await sql`select status, (select stock from products where id = ${shop.products.Rare}) as stock from orders where id = ${order.order_id}`;
    expect(state).toEqual({ status: "cancelled", stock: 1 });
    const email = (await handlerRows(sql, order.event_id)).filter((r) => r.handler_name === "commerce.send_confirmation_email");
    expect(email.map((r) => `${r.attempt}:${r.status}`)).toEqual(["2:blocked"]); // the crashed attempt 1 recorded nothing
  });

  it("an order in stock whose attempt crashed after its handlers ran is reserved once and confirmed once", async () => {
    const shop = await openShop(sql, [{ name: "Lamp", price: 9_000, stock: 3 }]);
    const order = await checkout(sql, shop, { Lamp: 2 });
    await attemptThenCrash(order.event_id);

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
