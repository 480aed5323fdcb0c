/**
 * checkout (POST): places an order through the checkout() SQL function: the order, its
 * items, pending payment and delivery, and order.created, in one transaction. It answers
 * with the order and its event id; the page then asks process-event for that event's
 * result (or watches the order), and the dispatcher may already be on it.
 *
 * A line asking more than the product's stock is refused first (409 naming the line's
 * quantity), so the buyer learns it before an order exists rather than from a cancelled
 * one. The check is advisory: two buyers may still race for the last unit, and
 * commerce.decrement_stock, which takes the stock under the products' locks, stays the
 * authority (it cancels the later order, and order-status says which item was short).
 *
 * A buyer's page sends an Idempotency-Key with each checkout attempt (the same key when it
 * retries or is double-clicked): a repeat gets the first answer, the same order, and
 * places nothing (the pipeline's idempotency, src/bus/functions/idempotency.ts).
 */
import { z } from "zod";
import { HttpError, type Queryable } from "../../bus/index.ts";
import { defineFunction, json, route } from "../../bus/functions/index.ts";

const checkoutInput = z.strictObject({
  store_id: z.uuid(),
  customer_email: z.email().max(254),
  items: z.array(z.strictObject({ product_id: z.uuid(), quantity: z.number().int().min(1).max(1000) })).min(1).max(100),
  payment_method: z.enum(["card", "mobile_money", "cash_on_delivery"]),
  attribution: z.record(z.string().max(40), z.string().max(200)).refine((a) => Object.keys(a).length <= 20, "at most 20 keys").optional(),
});
type Item = z.infer<typeof checkoutInput>["items"][number];

/** Guests (anon) and signed-in buyers check out; a signed-in buyer's order is theirs (customer_id). */
export const checkout = defineFunction({
  name: "checkout",
  auth: "anyone",
  note: "guests check out; the function validates everything it is sent",
  routes: [route("POST", {
    body: checkoutInput, maxBytes: 32 * 1024,
    idempotent: true, // a double-clicked or retried checkout with one Idempotency-Key places one order
    handle: async ({ bus, caller, body: input }) => {
      await refuseShortLines(bus.sql, input.store_id, input.items);
      const customerId = caller.kind === "user" ? caller.claims.sub : null;
      // withTraceContext: order.created, emitted by the SQL, carries this request's trace (issue 16).
      const [order] = await bus.withTraceContext((sql) => sql<{ order_id: string; order_number: string; event_id: string; total_minor: string; currency: string }[]>`
        select * from checkout(${input.store_id}::uuid, ${input.customer_email}, ${sql.json(input.items)},
                               ${input.payment_method}, ${sql.json(input.attribution ?? {})}, ${customerId}::uuid)`);
      return json({ ...order, total_minor: Number(order.total_minor) }, 201);
    },
  })],
});

/** 409 naming the first line (items.<n>.quantity) that asks more than its product's stock, unless back-ordered. */
async function refuseShortLines(sql: Queryable, storeId: string, items: Item[]): Promise<void> {
  const [short] = await sql<{ line: number; name: string; stock: number }[]>`
    select i.ord::int - 1 as line, p.name, greatest(p.stock, 0) as stock
    from jsonb_array_elements(${sql.json(items)}) with ordinality i(v, ord)
    join products p on p.id = (i.v ->> 'product_id')::uuid and p.store_id = ${storeId}::uuid
    where not p.allow_backorder and p.stock < (i.v ->> 'quantity')::int
    order by i.ord limit 1`;
  if (short) {
    throw new HttpError(409, "out_of_stock", `${short.name}: only ${short.stock} in stock`, `items.${short.line}.quantity`);
  }
}
