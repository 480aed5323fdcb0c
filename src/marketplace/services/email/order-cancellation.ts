/** The buyer's notice that their order was cancelled, and why (commerce.send_cancellation_email). */
import type { PayloadOf } from "../../engines/catalog.ts";
import { escapeHtml as escape } from "./html.ts";
import type { EmailMessage } from "./provider.ts";

export function orderCancellation(cancelled: PayloadOf<"order.cancelled">, to: string, storeName: string): EmailMessage {
  return {
    to,
    subject: `Your order ${cancelled.order_number} at ${storeName} was cancelled`,
    html: `<p>We are sorry: your order <strong>${escape(cancelled.order_number)}</strong> at ${escape(storeName)} was cancelled.</p>` +
      `<p>Reason: ${escape(cancelled.reason)}</p>` +
      `<p>Nothing will be delivered, and any payment held in escrow for it is refunded.</p>`,
  };
}
