import { onEvent } from "../define.ts";

/** delivery.confirmed and payout.requested: a durable, append-only record of who did what. */
export const auditLog = onEvent("trust.audit_log", ["delivery.confirmed", "payout.requested"], async (event, { sql, idempotencyKey }) => {
  const actor = "requested_by" in event.payload && event.payload.requested_by ? `user:${event.payload.requested_by}` : "system";
  await sql`
    insert into audit_log (event_id, actor, action, entity_type, entity_id, store_id, data, dedupe_key)
    values (${event.id}::uuid, ${actor}, ${event.type}, ${event.aggregateType}, ${event.aggregateId}::uuid,
            ${event.tenantId}::uuid, ${sql.json(event.payload)}, ${idempotencyKey})
    on conflict (dedupe_key) do nothing`;
});
