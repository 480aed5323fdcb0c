/**
 * The marketplace's event catalog: every event type the engines know, with the zod
 * schema of its payload. process-event rejects a payload that does not match (400 naming
 * the field), emit() from TypeScript is typed by it, and handlers read payloads through it.
 */
import { z } from "zod";
import { busEventSchemas } from "../../bus/index.ts";

const id = z.uuid();
const minor = z.number().int().nonnegative();
const currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code like XOF");

export const eventCatalog = {
  "order.created": z.object({
    order_number: z.string().min(1).max(40),
    total_minor: minor,
    currency,
    customer_email: z.email(),
    items: z.array(z.object({ product_id: id, quantity: z.number().int().min(1).max(1000), unit_price_minor: minor })).min(1).max(100),
    payment_method: z.enum(["card", "mobile_money", "cash_on_delivery"]),
    attribution: z.record(z.string(), z.unknown()).default({}),
  }),
  "order.cancelled": z.object({ order_number: z.string().min(1), reason: z.string().min(1).max(2000) }),
  "payment.paid": z.object({
    order_id: id, amount_minor: minor, currency, provider: z.string().min(1).max(40), provider_ref: z.string().max(200).nullish(),
  }),
  "payment.failed": z.object({ order_id: id, reason: z.string().max(2000).optional() }),
  "delivery.delivered": z.object({ order_id: id }),
  "delivery.confirmed": z.object({ order_id: id }),
  "payout.requested": z.object({ amount_minor: z.number().int().positive(), currency, requested_by: id.nullish() }),
  "ticket.created": z.object({ subject: z.string().min(1).max(200), customer_email: z.string().min(3).max(254), order_id: id.nullish() }),
  // The bus's own events (its alert notices), with the bus's schemas: no client or automation emits one.
  ...busEventSchemas,
} as const;

export type EventCatalog = typeof eventCatalog;
export type EventType = keyof EventCatalog;
export type PayloadOf<T extends EventType> = z.infer<EventCatalog[T]>;

export function isCatalogued(eventType: string): eventType is EventType {
  return Object.hasOwn(eventCatalog, eventType);
}

/** `order.created` happens to an `order`: the aggregate type is the event type's first word. */
export const aggregateTypeOf = (eventType: string) => eventType.slice(0, eventType.indexOf("."));
