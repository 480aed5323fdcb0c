/**
 * A handler's outcome does not depend on whether its previous attempt crashed. The
 * attempt that cancels an order for lack of stock may be killed after its transaction
 * commits and before its result is recorded; the retry must refuse the same way (dead,
 * "out of stock: …"), not take the already-cancelled order as success.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { useDatabase } from "../../support/database.ts";
import { eventRow, handlerRows, testBus } from "../../support/bus.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());

describe("an out-of-stock refusal survives a crash after its commit", () => {
  it("the retry of commerce.decrement_stock refuses with the same reason, and the event ends dead", async () => {
    const shop = await openShop(sql, [{ name: "Rare", price: 50_000, stock: 1 }]);
    const order = await checkout(sql, shop, { Rare: 2 });

    // The crashed attempt's committed effect: the order cancelled and compensated. Its
    // handler run was never recorded.
    const [first] = await sql<{ result: string }[]>`select reserve_stock_for_order(${order.order_id}::uuid) as result`;
    expect(first.result).toBe("out_of_stock: Rare: 2 wanted, 1 in stock");

    await drain(bus);
    const event = await eventRow(sql, order.event_id);
    expect(event.status).toBe("dead");
    expect(event.error_message).toContain("commerce.decrement_stock: NonRetriableError: out of stock: Rare: 2 wanted, 1 in stock");
    const runs = (await handlerRows(sql, order.event_id)).filter((r) => r.handler_name === "commerce.decrement_stock");
    expect(runs.map((r) => r.status)).toEqual(["failed"]);

    // Nothing was done twice: one cancellation, stock untouched.
    const [state] = await sql`
      select o.status, o.cancel_reason, (select stock from products where id = ${shop.products.Rare}) as stock,
             (select count(*)::int from feyxa.events_log where event_type = 'order.cancelled' and aggregate_id = o.id) as cancellations
      from orders o where o.id = ${order.order_id}`;
    expect(state).toEqual({ status: "cancelled", cancel_reason: "out of stock: Rare: 2 wanted, 1 in stock", stock: 1, cancellations: 1 });
  });

  it("an order cancelled for another reason still has nothing to reserve (success, no refusal)", async () => {
    const shop = await openShop(sql, [{ name: "Lamp", price: 9_000, stock: 3 }]);
    const order = await checkout(sql, shop, { Lamp: 1 });
    await sql`update orders set status = 'cancelled', cancel_reason = 'buyer changed their mind' where id = ${order.order_id}`;
    const [again] = await sql<{ result: string }[]>`select reserve_stock_for_order(${order.order_id}::uuid) as result`;
    expect(again.result).toBe("cancelled");
  });
});
