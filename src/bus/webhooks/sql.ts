/** Every statement of webhooks, out and in. Outgoing signing secrets stay in the database. */
import type { JSONValue } from "postgres";
import type { Queryable, Sql } from "../types.ts";

export interface DeliveryPlan {
  targetKind: "function" | "url";
  /** Null for a function target while event_bus_settings.functions_url is unset. */
  url: string | null;
  /** The webhook-signature header (one v1 signature per active secret), or null when unsigned. */
  signature: string | null;
}

/** Where the handler delivers, and the signature of `message`; undefined: no active remote subscription by that name. */
export async function deliveryPlan(sql: Sql, handlerName: string, message: string): Promise<DeliveryPlan | undefined> {
  const [row] = await sql<{ target_kind: "function" | "url"; url: string | null; signature: string | null }[]>`
    select target_kind, url, signature from feyxa.webhook_delivery_plan(${handlerName}, ${message})`;
  return row && { targetKind: row.target_kind, url: row.url, signature: row.signature };
}

export interface DeliveryRecord {
  eventId: string;
  handlerName: string;
  attempt: number;
  statusCode: number | null;
  excerpt: string;
  durationMs: number;
}

/** Records what the receiver answered; true when a 410 deactivated the subscription. */
export async function recordDelivery(sql: Sql, d: DeliveryRecord): Promise<boolean> {
  const [row] = await sql<{ deactivated: boolean }[]>`
    select feyxa.record_webhook_delivery(${d.eventId}::uuid, ${d.handlerName}, ${d.attempt}, ${d.statusCode},
                                   ${d.excerpt}, ${d.durationMs}) as deactivated`;
  return row.deactivated;
}

export interface Receipt {
  eventId: string;
  /** The provider sent this event before: nothing was done again. */
  duplicate: boolean;
  /** What the business write did (paid, already_paid, no_order, amount_mismatch, none, ...). */
  effect: string;
}

/** Accepts a verified provider event once, with its business write, in one transaction (receive_webhook). */
export async function receiveWebhook(
  sql: Queryable,
  source: string,
  event: { id: string; type: string; data: Record<string, unknown> },
): Promise<Receipt> {
  const [row] = await sql<{ event_id: string; duplicate: boolean; effect: string }[]>`
    select event_id, duplicate, effect from feyxa.receive_webhook(${source}, ${event.id}, ${event.type}, ${sql.json(event.data as JSONValue)})`;
  return { eventId: row.event_id, duplicate: row.duplicate, effect: row.effect };
}
