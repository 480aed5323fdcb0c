/**
 * Flow control per event type (supabase/schemas/bus/flow-control.sql, claims.sql):
 * a default priority, order per aggregate, and what a line does when its head dies. Per
 * emit, the same options travel with the event (NewEvent: deliver_at, delay, priority,
 * ordering_key). docs/flow-control.md shows each with an example.
 */
import type { Queryable } from "./types.ts";

export interface EventTypeFlow {
  /** Seconds of head start in the claim, 0 to 1000; unset: 0. An emit's own priority wins. */
  priority?: number | null;
  /** Handle the events of one aggregate (or of one ordering_key) one at a time, in emit order. */
  ordered?: boolean;
  /** When the head of a line is dead: hold the line until an operator acts (default), or move on. */
  onDeadHead?: "hold" | "skip";
}

/** Sets an event type's flow control, for the events emitted afterwards. */
export async function configureEventType(sql: Queryable, eventType: string, flow: EventTypeFlow): Promise<void> {
  await sql`select feyxa.configure_event_type(${eventType}, ${flow.priority ?? null}::int, ${flow.ordered ?? false},
                                              ${flow.onDeadHead ?? "hold"})`;
}

/**
 * Fairness between tenants: claims serve the tenants with due events in turn, so one
 * tenant's flood does not starve the others; `maxInFlight` caps any one tenant's events in
 * flight across all dispatchers (null: no cap). Off: the plain oldest-first claim.
 */
export async function configureTenantFairness(sql: Queryable, options: { enabled: boolean; maxInFlight?: number | null }): Promise<void> {
  await sql`select feyxa.configure_tenant_fairness(${options.enabled}, ${options.maxInFlight ?? null}::int)`;
}

/** One tenant's own cap on its events in flight (null: back to the default). Applies while fairness is on. */
export async function setTenantLimit(sql: Queryable, tenantId: string, maxInFlight: number | null): Promise<void> {
  await sql`select feyxa.set_tenant_limit(${tenantId}::uuid, ${maxInFlight}::int)`;
}
