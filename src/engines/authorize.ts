/**
 * What a caller other than the server may emit through process-event: only the event
 * types declared client-emittable, only for an aggregate that is theirs, in a store that
 * aggregate belongs to. Everything else (payment.paid, payout.requested, …) is emitted by
 * the server: triggers, webhooks, the service role.
 */
import type { Caller } from "../core/auth.ts";
import { HttpError } from "../core/errors.ts";
import type { NewEvent, Queryable } from "../core/types.ts";

/** Checkout's order.created: a buyer may ask for their own order's event to be processed. */
export const clientEmittable: ReadonlySet<string> = new Set(["order.created"]);

export async function authorizeClientEmit(sql: Queryable, caller: Caller, event: NewEvent): Promise<void> {
  if (caller.kind === "server") return;
  if (!clientEmittable.has(event.event_type)) {
    throw new HttpError(403, "forbidden", `${event.event_type} is emitted by the server only`, "event_type");
  }
  if (caller.kind !== "user") throw new HttpError(401, "unauthorized", "sign in to emit events");
  const [mine] = await sql`
    select 1 from orders
    where id = ${event.aggregate_id}::uuid and customer_id = ${caller.claims.sub}::uuid
      and store_id is not distinct from ${event.store_id ?? null}::uuid`;
  if (!mine) throw new HttpError(403, "forbidden", "you may emit events only for your own orders, in their store", "aggregate_id");
}
