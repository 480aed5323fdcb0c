/**
 * The marketplace's rule for what reaches the bus through process-event.
 *
 * - Any caller, the server included: the tenant (`tenant_id`: the marketplace's tenants are its
 *   stores) must name a store (400 naming it).
 * - A caller other than the server emits only the types declared client-emittable, only
 *   for an aggregate that is theirs, and what is emitted is derived from stored state:
 *   the caller names the aggregate, the database says the rest (store, payload, key). A
 *   client's payload and idempotency key are never read, so it cannot write facts (an
 *   address to mail, a total) nor choose a key of the server's (`order.cancelled:<id>`).
 *   Its key is the server's own for the same fact, so re-asking dedupes with it.
 * Everything else (payment.paid, payout.requested, …) is emitted by the server: triggers,
 * webhooks, the service role.
 */
import { HttpError, type NewEvent, type Queryable } from "../../bus/index.ts";
import type { Caller } from "../../bus/functions/index.ts";

type Derive = (sql: Queryable, customerId: string, event: NewEvent) => Promise<NewEvent>;

/** Each client-emittable type, and how its event is made from the database. */
const derivations: Readonly<Record<string, Derive>> = {
  // Checkout's order.created: a buyer may ask for their own order's event; it is checkout's own.
  "order.created": orderCreated,
};

export const clientEmittable: ReadonlySet<string> = new Set(Object.keys(derivations));

/** process-event's authorizeEmit: throws 400/401/403, or returns the event to store in place of a client's. */
export async function authorizeClientEmit(sql: Queryable, caller: Caller, event: NewEvent): Promise<NewEvent | undefined> {
  if (event.tenant_id != null) {
    const [store] = await sql`select 1 from stores where id = ${event.tenant_id}::uuid`;
    if (!store) throw new HttpError(400, "invalid_request", "tenant_id: no such store", "tenant_id");
  }
  if (caller.kind === "server") return undefined;
  const derive = Object.hasOwn(derivations, event.event_type) ? derivations[event.event_type] : undefined;
  if (!derive) throw new HttpError(403, "forbidden", `${event.event_type} is emitted by the server only`, "event_type");
  if (caller.kind !== "user") throw new HttpError(401, "unauthorized", "sign in to emit events");
  return derive(sql, caller.claims.sub, event);
}

const notYours = () => new HttpError(403, "forbidden", "you may emit events only for your own orders, in their store", "aggregate_id");

/** order.created as checkout() emitted it: the same payload, store and key (`order.created:<order id>`). */
async function orderCreated(sql: Queryable, customerId: string, event: NewEvent): Promise<NewEvent> {
  const [order] = await sql<{ id: string; store_id: string; payload: Record<string, unknown> }[]>`
    select o.id, o.store_id, order_created_payload(o.id) as payload
    from orders o
    where o.id = ${event.aggregate_id}::uuid and o.customer_id = ${customerId}::uuid`;
  if (!order || (event.tenant_id != null && event.tenant_id.toLowerCase() !== order.store_id)) throw notYours();
  return {
    event_type: "order.created", aggregate_type: "order", aggregate_id: order.id, tenant_id: order.store_id,
    payload: order.payload, idempotency_key: `order.created:${order.id}`,
  };
}
