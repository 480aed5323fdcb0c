/**
 * my-orders: a signed-in buyer's orders, read as the buyer under the orders table's RLS.
 * Tried as anon (refused), as the buyer (their orders only, newest first), as a signed-in
 * stranger (none), as a store's staff (their own purchases, not the store's orders), and
 * with a bad limit (400 naming it, nothing changed).
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { testFunctions, token } from "../../support/auth.ts";
import { useDatabase } from "../../support/database.ts";
import { testBus, uuid } from "../../support/bus.ts";
import { openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const gateway = createGateway(testFunctions(testBus(sql, engineHandlers())));
const shop = await openShop(sql, [{ name: "Pot", price: 2_000, stock: 50 }]);

async function user(): Promise<{ id: string; bearer: string }> {
  const id = uuid();
  await sql`insert into auth.users (id, email) values (${id}, ${`${id}@example.com`})`;
  return { id, bearer: `Bearer ${await token(id)}` };
}
const [buyer, stranger, staff] = [await user(), await user(), await user()];
await sql`insert into store_members (store_id, user_id, role) values (${shop.storeId}, ${staff.id}, 'staff')`;

const call = (fn: string, init: { bearer?: string; body?: unknown; query?: string } = {}) =>
  gateway(new Request(`http://localhost:54321/functions/v1/${fn}${init.query ?? ""}`, {
    method: init.body ? "POST" : "GET",
    headers: { "content-type": "application/json", ...(init.bearer ? { authorization: init.bearer } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  }));
const order = async (bearer?: string) => {
  const res = await call("checkout", { bearer, body: {
    store_id: shop.storeId, customer_email: "buyer@example.com", payment_method: "card", items: [{ product_id: shop.products.Pot, quantity: 2 }],
  } });
  expect(res.status).toBe(201);
  return (await res.json()).order_number as string;
};
const first = await order(buyer.bearer);
const second = await order(buyer.bearer);
await order(); // a guest's order, with the same email: not the buyer's

describe("my-orders", () => {
  it("refuses anon (401), placing and changing nothing", async () => {
    const res = await call("my-orders");
    expect(res.status).toBe(401);
  });

  it("lists the buyer's own orders, newest first, and nobody else's", async () => {
    const res = await call("my-orders", { bearer: buyer.bearer });
    expect(res.status).toBe(200);
    const { orders } = await res.json();
    expect(orders.map((o: { order_number: string }) => o.order_number)).toEqual([second, first]);
    expect(orders[0]).toMatchObject({ status: "pending_payment", total_minor: 4_000, currency: "XOF", items: 2, store_id: shop.storeId });
  });

  it("shows a signed-in stranger nothing, and a store's staff only their own purchases", async () => {
    expect((await (await call("my-orders", { bearer: stranger.bearer })).json()).orders).toEqual([]);
    expect((await (await call("my-orders", { bearer: staff.bearer })).json()).orders).toEqual([]);
  });

  it("answers 400 naming limit for a bad one", async () => {
    for (const limit of ["0", "101", "1.5", "x"]) {
      const res = await call("my-orders", { bearer: buyer.bearer, query: `?limit=${limit}` });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ field: "limit" });
    }
    const two = await call("my-orders", { bearer: buyer.bearer, query: "?limit=1" });
    expect((await two.json()).orders).toHaveLength(1);
  });
});
