/**
 * What became of each order of a shop, read from the database after a run: its stock,
 * its events and every effect the engines had on it, and the checks of one order's fate.
 * An order either got its stock (completed, with every effect once) or did not (cancelled
 * for lack of stock, compensated, its order.created dead with the refusal): which orders
 * win the last units depends on timing, so a fate is checked for consistency, and the
 * refusal's wording against what an uncrashed run writes.
 */
import { patternMatches } from "../../../src/bus/router.ts";
import type { Sql } from "../../../src/bus/types.ts";
import type { PlacedOrder } from "./order-mix.ts";

export interface OrderFate {
  order_id: string;
  status: string;
  cancel_reason: string | null;
  event_status: string;
  event_error: string | null;
  lines: number;
  movements: number;
  moved_as_ordered: boolean;
  escrows: string[];
  funded: boolean;
  emails: number;
  notifications: number;
  attributions: number;
  cancellations: string[];
  payment: string;
  payment_events: string[];
  delivery: string;
  delivery_events: string[];
  credits: number;
  audits: number;
}

export async function readFates(sql: Sql, storeId: string): Promise<Map<string, OrderFate>> {
  const rows = await sql<OrderFate[]>`
    select o.id as order_id, o.status, o.cancel_reason, e.status as event_status, e.error_message as event_error,
           (select count(*)::int from order_items where order_id = o.id) as lines,
           (select count(*)::int from stock_movements where order_id = o.id) as movements,
           not exists (select 1 from stock_movements m left join order_items i on i.order_id = m.order_id and i.product_id = m.product_id
                       where m.order_id = o.id and m.quantity is distinct from i.quantity) as moved_as_ordered,
           array(select status from escrows where order_id = o.id) as escrows,
           coalesce((select funded_at is not null from escrows where order_id = o.id), false) as funded,
           (select count(*)::int from email_outbox where dedupe_key like e.id || ':%') as emails,
           (select count(*)::int from notifications where dedupe_key like e.id || ':%') as notifications,
           (select count(*)::int from order_attributions where order_id = o.id) as attributions,
           array(select c.status from feyxa.events_log c where c.event_type = 'order.cancelled' and c.aggregate_id = o.id) as cancellations,
           p.status as payment,
           array(select pe.status from feyxa.events_log pe where pe.event_type = 'payment.paid' and pe.aggregate_id = p.id) as payment_events,
           d.status as delivery,
           array(select de.event_type || ' ' || de.status from feyxa.events_log de where de.aggregate_id = d.id order by de.event_type) as delivery_events,
           (select count(*)::int from store_ledger l join escrows x on x.id = l.ref_id where x.order_id = o.id and l.kind = 'escrow_release') as credits,
           (select count(*)::int from audit_log a where a.entity_id = d.id) as audits
    from orders o
    join feyxa.events_log e on e.event_type = 'order.created' and e.aggregate_id = o.id
    join payments p on p.order_id = o.id
    join deliveries d on d.order_id = o.id
    where o.store_id = ${storeId}::uuid`;
  return new Map(rows.map((r) => [r.order_id, r]));
}

/** The dead order.created's reason, as `refusal(cancel_reason)` builds it from the order's stored reason. */
export type Refusal = (cancelReason: string) => string;

/** Everything wrong with one order's fate (empty when consistent). */
export function fateProblems(fate: OrderFate | undefined, placed: PlacedOrder, refusal: Refusal): string[] {
  if (!fate) return ["not found"];
  const problems: string[] = [];
  const want = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
  const stocked = fate.movements > 0;
  const { pays, confirms } = placed.script;
  if (stocked) {
    // A paid order in stock is delivered, its escrow released to the store once, the order completed.
    want("status", fate.status, pays ? "completed" : "pending_payment");
    want("stock movements", [fate.movements, fate.moved_as_ordered], [fate.lines, true]);
    want("order.created", [fate.event_status, fate.event_error], ["completed", null]);
    want("escrows", [fate.escrows, fate.funded, fate.credits], pays ? [["released"], true, 1] : [["held"], false, 0]);
    want("delivery", [fate.delivery, fate.delivery_events, fate.audits], !pays ? ["pending", [], 0]
      : confirms ? ["confirmed", ["delivery.confirmed completed", "delivery.delivered completed"], 1] : ["delivered", ["delivery.delivered completed"], 0]);
    want("confirmation emails", fate.emails, 1);
    want("order.cancelled", fate.cancellations, []);
    if (placed.script.overAsks) problems.push("got more than the whole stock of a product");
  } else {
    want("status", fate.status, "cancelled");
    if (!/^out of stock: .+: \d+ wanted, \d+ in stock/.test(fate.cancel_reason ?? "")) problems.push(`cancel reason: ${fate.cancel_reason}`);
    for (const [, wanted, inStock] of (fate.cancel_reason ?? "").matchAll(/: (\d+) wanted, (-?\d+) in stock/g)) {
      if (Number(inStock) >= Number(wanted) || Number(inStock) < 0) problems.push(`cancel reason claims no shortage: ${fate.cancel_reason}`);
    }
    want("order.created", [fate.event_status, fate.event_error], ["dead", refusal(fate.cancel_reason ?? "")]);
    if (fate.escrows.length > 1 || fate.escrows.some((s) => s !== "refunded")) problems.push(`escrows: ${fate.escrows}`);
    want("confirmation emails", fate.emails, 0);
    want("order.cancelled", fate.cancellations, ["completed"]);
    want("delivery", [fate.delivery, fate.delivery_events, fate.credits], ["pending", [], 0]);
  }
  want("store notifications", fate.notifications, 1);
  want("attributions", fate.attributions, 1);
  want("payment", [fate.payment, fate.payment_events], pays ? ["paid", ["completed"]] : ["pending", []]);
  return problems;
}

/**
 * Per event of the shop and per subscribed handler, how many runs succeeded: exactly one
 * for every handler of a completed event, and of a dead one but for its refusing handler
 * and the handlers that run after it (blocked), which have none. Returns the deviations,
 * and the statuses events ended in.
 */
export async function handlerRunProblems(sql: Sql, storeId: string, refusing: string): Promise<{ problems: string[]; statuses: Record<string, number> }> {
  const subscriptions = await sql<{ event_pattern: string; handler_name: string; after_handlers: string[] }[]>`
    select event_pattern, handler_name, after_handlers from feyxa.event_subscriptions where is_active`;
  const events = await sql<{ id: string; event_type: string; status: string; successes: Record<string, number> }[]>`
    select e.id, e.event_type, e.status,
           coalesce((select jsonb_object_agg(handler_name, n) from (
             select handler_name, count(*)::int as n from feyxa.event_handlers_log h
             where h.event_id = e.id and h.status = 'success' group by handler_name) s), '{}') as successes
    from feyxa.events_log e where e.tenant_id = ${storeId}::uuid`;
  const problems: string[] = [];
  const statuses: Record<string, number> = {};
  for (const event of events) {
    statuses[event.status] = (statuses[event.status] ?? 0) + 1;
    const routes = subscriptions.filter((s) => patternMatches(s.event_pattern, event.event_type));
    const handlers = new Set(routes.map((s) => s.handler_name));
    // The refusing handler, and whatever waits for it (after), directly or not.
    const refused = new Set([refusing]);
    for (let grew = true; grew;) {
      grew = false;
      for (const r of routes) {
        if (!refused.has(r.handler_name) && r.after_handlers.some((a) => refused.has(a))) grew = refused.add(r.handler_name).size > 0;
      }
    }
    for (const name of handlers) {
      const expected = event.status === "dead" && refused.has(name) ? 0 : 1;
      const actual = event.successes[name] ?? 0;
      if (actual !== expected) problems.push(`${event.event_type} ${event.id} (${event.status}): ${name} succeeded ${actual} times`);
    }
    for (const name of Object.keys(event.successes)) {
      if (!handlers.has(name)) problems.push(`${event.event_type} ${event.id}: ${name} ran, not subscribed`);
    }
  }
  return { problems, statuses };
}

/** Per product of the shop: initial stock − sold = remaining, never negative. */
export async function stockProblems(sql: Sql, storeId: string, initial: Record<string, number>): Promise<string[]> {
  const rows = await sql<{ name: string; stock: number; sold: number }[]>`
    select p.name, p.stock, coalesce((select sum(quantity)::int from stock_movements m where m.product_id = p.id), 0) as sold
    from products p where p.store_id = ${storeId}::uuid`;
  return rows.flatMap((r) =>
    r.stock < 0 || initial[r.name] - r.sold !== r.stock ? [`${r.name}: ${initial[r.name]} − ${r.sold} sold ≠ ${r.stock} left`] : []);
}
