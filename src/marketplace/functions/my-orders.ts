/**
 * my-orders (GET): a signed-in buyer's orders, newest first, for the storefront's "My orders".
 * It runs as the caller (asCaller), so the orders table's RLS decides which rows come back
 * (orders_customer_read: customer_id = auth.uid(); a store's staff would see their store's
 * too, as they may through the Data API); the function's own filter on auth.uid() keeps
 * this list to the caller's purchases. The order's status is the buyer's summary here;
 * the tracker (order-status) has the payment and the delivery.
 */
import { z } from "zod";
import { asCaller, defineFunction, json, route, userOf } from "../../bus/functions/index.ts";

export const myOrders = defineFunction({
  name: "my-orders",
  auth: "user",
  note: "the function verifies user tokens itself (HS256 or the project's JWKS)",
  routes: [route("GET", {
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }),
    handle: async ({ bus, caller, query: { limit } }) => {
      const orders = await asCaller(bus.sql, userOf(caller), (tx) => tx`
        select o.id, o.order_number, o.store_id, s.name as store_name, o.status, o.total_minor::int, o.currency, o.created_at,
               (select coalesce(sum(oi.quantity), 0)::int from order_items oi where oi.order_id = o.id) as items
        from orders o
        join stores s on s.id = o.store_id
        where o.customer_id = (select auth.uid())
        order by o.created_at desc, o.id
        limit ${limit}`);
      return json({ orders });
    },
  })],
});
