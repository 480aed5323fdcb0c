import type { Handler } from "../../core/types.ts";
import { onEvent } from "../define.ts";
import { orderConfirmation } from "./email/order-confirmation.ts";
import { deliverEmail } from "./email/outbox.ts";
import type { EmailProvider } from "./email/provider.ts";

/**
 * order.created: email the buyer a confirmation, once, through the provider when one is
 * configured, else into the outbox. A provider outage fails this handler alone; the
 * retry runs only it. An order cancelled meanwhile (out of stock) gets no confirmation.
 */
export function sendConfirmationEmail(provider: EmailProvider | undefined): Handler {
  return onEvent("commerce.send_confirmation_email", ["order.created"], async (event, ctx) => {
    const [order] = await ctx.sql<{ status: string; store_name: string }[]>`
      select o.status, s.name as store_name from orders o join stores s on s.id = o.store_id where o.id = ${event.aggregateId}::uuid`;
    if (!order || order.status === "cancelled") return;
    await deliverEmail(ctx, provider, { ...orderConfirmation(event.payload, order.store_name), storeId: event.storeId });
  }, { timeoutMs: 20_000 });
}
