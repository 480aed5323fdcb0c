/**
 * The trust engine: the audit trail and customer support. Every handler this file exports
 * is registered (engineHandlers, ./index.ts).
 */
import { notify } from "../services/notify.ts";
import { onEvent } from "./define.ts";

/** delivery.confirmed and payout.requested: a durable, append-only record of who did what. */
export const auditLog = onEvent("trust.audit_log", ["delivery.confirmed", "payout.requested"], async (event, { sql, idempotencyKey }) => {
  const actor = "requested_by" in event.payload && event.payload.requested_by ? `user:${event.payload.requested_by}` : "system";
  await sql`
    insert into audit_log (event_id, actor, action, entity_type, entity_id, store_id, data, dedupe_key)
    values (${event.id}::uuid, ${actor}, ${event.type}, ${event.aggregateType}, ${event.aggregateId}::uuid,
            ${event.tenantId}::uuid, ${sql.json(event.payload)}, ${idempotencyKey})
    on conflict (dedupe_key) do nothing`;
});

/** ticket.created: tell the store a customer needs help. */
export const createTicketNotification = onEvent("trust.create_notification", ["ticket.created"], async (event, ctx) => {
  await notify(ctx, {
    storeId: event.tenantId,
    kind: "ticket.created",
    title: `New support ticket: ${event.payload.subject}`,
    body: `From ${event.payload.customer_email}`,
    data: { ticket_id: event.aggregateId, order_id: event.payload.order_id ?? null },
  });
});

/** ticket.created: give the ticket to the least-loaded active agent. No agent on duty: retried later. */
export const autoAssign = onEvent("trust.auto_assign", ["ticket.created"], async (event, { sql }) => {
  const [{ agent }] = await sql<{ agent: string | null }[]>`select auto_assign_ticket(${event.aggregateId}::uuid) as agent`;
  if (!agent) throw new Error("no active support agent to assign the ticket to");
});
