/**
 * order-status (GET ?order_id=): one order with what each engine did for it, which the
 * checkout page polls to show the bus at work, live. Anyone holding the order's id (an
 * unguessable UUID, given at checkout) may watch it.
 *
 * For the buyer's words the page needs facts, not the handlers' text: stock_taken (the
 * order's stock is reserved, so the page may let go of the cart) and, per item, the
 * product's stock now (for an order cancelled out of stock: which item, how many left).
 */
import { z } from "zod";
import { HttpError } from "../../bus/index.ts";
import { defineFunction, json, route } from "../../bus/functions/index.ts";

export const orderStatus = defineFunction({
  name: "order-status",
  auth: "anyone",
  routes: [route("GET", {
    query: z.object({ order_id: z.uuid() }),
    handle: async ({ bus, query: { order_id } }) => {
      const [order] = await bus.sql`
        select o.id, o.store_id, o.order_number, o.status, o.total_minor::int, o.currency, o.cancel_reason, o.created_at,
               s.name as store_name, p.status as payment_status, d.status as delivery_status, e.status as escrow_status,
               (select count(*)::int from email_outbox m -- by key (event_id:handler_name), not a LIKE scan
                  where m.dedupe_key in (select ev.id || ':' || h.handler_name from feyxa.event_handlers_log h where h.event_id = ev.id)) as emails,
               exists (select 1 from stock_movements sm where sm.order_id = o.id) as stock_taken,
               (select coalesce(jsonb_agg(jsonb_build_object('product_id', pr.id, 'name', pr.name, 'quantity', oi.quantity,
                                                             'stock', greatest(pr.stock, 0), 'allow_backorder', pr.allow_backorder)
                                          order by pr.name), '[]')
                  from order_items oi join products pr on pr.id = oi.product_id where oi.order_id = o.id) as items
        from orders o join stores s on s.id = o.store_id
        left join payments p on p.order_id = o.id left join deliveries d on d.order_id = o.id
        left join escrows e on e.order_id = o.id
        left join feyxa.events_log ev on ev.aggregate_id = o.id and ev.event_type = 'order.created'
        where o.id = ${order_id}::uuid`;
      if (!order) throw new HttpError(404, "not_found", `no order with id ${order_id}`, "order_id");
      const events = await bus.sql`
        select e.id, e.event_type, e.status, e.attempt, e.error_message, e.created_at,
               coalesce((select jsonb_agg(jsonb_build_object('handler_name', h.handler_name, 'status', h.status, 'attempt', h.attempt,
                                                           'duration_ms', h.duration_ms, 'error_message', h.error_message)
                                          order by h.attempt, h.handler_name)
                         from feyxa.event_handlers_log h where h.event_id = e.id), '[]') as handlers
        from feyxa.events_log e
        where e.aggregate_id = ${order_id}::uuid
           or (e.payload ->> 'order_id' = ${order_id} and e.aggregate_type in ('payment', 'delivery'))
        order by e.created_at`;
      return json({ order, events });
    },
  })],
});
