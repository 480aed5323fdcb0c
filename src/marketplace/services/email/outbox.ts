/**
 * Every email goes through the outbox row first (unique per handler run), so an email is
 * sent at most once per run however often the handler is retried: a row already 'sent'
 * or 'stored' is not sent again. Without a provider the outbox is the destination.
 */
import type { HandlerContext } from "../../../bus/index.ts";
import type { EmailMessage, EmailProvider } from "./provider.ts";

export async function deliverEmail(
  { sql, idempotencyKey, signal }: HandlerContext,
  provider: EmailProvider | undefined,
  message: EmailMessage & { storeId: string | null },
): Promise<void> {
  await sql`
    insert into email_outbox (store_id, to_email, subject, html, dedupe_key)
    values (${message.storeId}::uuid, ${message.to}, ${message.subject}, ${message.html}, ${idempotencyKey})
    on conflict (dedupe_key) do nothing`;
  const [row] = await sql<{ id: string; status: string }[]>`select id, status from email_outbox where dedupe_key = ${idempotencyKey}`;
  if (row.status !== "pending") return;
  if (!provider) {
    await sql`update email_outbox set status = 'stored' where id = ${row.id}::uuid`;
    return;
  }
  try {
    const { id } = await provider.send(message, { idempotencyKey, signal });
    await sql`update email_outbox set status = 'sent', provider = ${provider.name}, provider_message_id = ${id},
                attempts = attempts + 1, last_error = null, sent_at = now() where id = ${row.id}::uuid`;
  } catch (error) {
    await sql`update email_outbox set attempts = attempts + 1, last_error = ${String((error as Error).message).slice(0, 500)}
              where id = ${row.id}::uuid`;
    throw error;
  }
}
