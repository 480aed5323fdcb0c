import type { Handler } from "../../../bus/types.ts";
import { onEvent } from "../define.ts";
import { orderConfirmation } from "../../services/email/order-confirmation.ts";
import { deliverEmail } from "../../services/email/outbox.ts";
import type { EmailProvider } from "../../services/email/provider.ts";
import { isStocked, reserveStock } from "./reserve-stock.ts";

/**
 * order.created: email the buyer a confirmation, once, through the provider when one is
 * configured, else into the outbox. A provider outage fails this handler alone; the
 * retry runs only it. Only an order that has its stock is confirmed: this handler runs
 * beside commerce.decrement_stock, so reading the order's status would race its
 * reservation (an order confirmed, then cancelled out of stock). It asks for the stock
 * decision itself, which is made once whoever asks first; the refusal is
 * decrement_stock's to record.
 */
export function sendConfirmationEmail(provider: EmailProvider | undefined): Handler {
  return onEvent("commerce.send_confirmation_email", ["order.created"], async (event, ctx) => {
    if (!isStocked(await reserveStock(ctx.sql, event.aggregateId))) return;
    const [order] = await ctx.sql<{ store_name: string }[]>`
      select s.name as store_name from orders o join stores s on s.id = o.store_id where o.id = ${event.aggregateId}::uuid`;
    await deliverEmail(ctx, provider, { ...orderConfirmation(event.payload, order.store_name), storeId: event.tenantId });
  }, { timeoutMs: 20_000 });
}
