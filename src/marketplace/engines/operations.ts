/**
 * The operations engine: telling the people who run the marketplace what the bus's alert
 * rules found. Every handler this file exports is registered (engineHandlers, ./index.ts).
 */
import { ALERT_EVENT_TYPES, contextForPart, type Handler, type HandlerContext } from "../../bus/index.ts";
import { alertNoticeEmail } from "../services/email/alert-notice.ts";
import { deliverEmail } from "../services/email/outbox.ts";
import { type EngineDependencies, onEvent } from "./define.ts";

/**
 * Who hears of a rule: a store's rule (its tenant is the store) goes to the store's owners;
 * a bus-wide rule, or a store with no owner to tell, to the marketplace's admins (the
 * operators the monitor lets in: feyxa.reader_is_operator()).
 */
async function recipientsOf(sql: HandlerContext["sql"], tenantId: string | null) {
  const owners = tenantId === null ? [] : await sql<{ email: string; store_id: string; store_name: string }[]>`
    select u.email, s.id as store_id, s.name as store_name
    from stores s join store_members m on m.store_id = s.id and m.role = 'owner' join auth.users u on u.id = m.user_id
    where s.id = ${tenantId}::uuid and u.email is not null order by u.email`;
  if (owners.length > 0) return { emails: owners.map((o) => o.email), storeId: owners[0].store_id, where: owners[0].store_name };
  const admins = await sql<{ email: string }[]>`
    select u.email from marketplace_admins a join auth.users u on u.id = a.user_id where u.email is not null order by u.email`;
  return { emails: admins.map((a) => a.email), storeId: null, where: tenantId === null ? "the whole bus" : `tenant ${tenantId}` };
}

/**
 * alert.*: email each notice (firing, repeat, resolved, disabled) through the outbox and the
 * provider. The bus already spaces them (one notice per repeat interval while an incident
 * lasts); a retried run sends nothing twice: each recipient's outbox row, and the provider's
 * idempotency key, is this run's key and the address.
 */
export function sendAlertEmail({ email }: EngineDependencies): Handler {
  return onEvent("operations.send_alert_email", ALERT_EVENT_TYPES, async (event, ctx) => {
    const to = await recipientsOf(ctx.sql, event.tenantId);
    for (const address of to.emails) {
      await deliverEmail(contextForPart(ctx, address), email, { ...alertNoticeEmail(event.payload, address, to.where), storeId: to.storeId });
    }
  }, { timeoutMs: 20_000 });
}
