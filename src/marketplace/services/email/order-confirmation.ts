import { formatMoney } from "../../engines/format.ts";
import type { PayloadOf } from "../../engines/catalog.ts";
import { escapeHtml as escape } from "./html.ts";
import type { EmailMessage } from "./provider.ts";

export function orderConfirmation(order: PayloadOf<"order.created">, storeName: string): EmailMessage {
  const lines = order.items
    .map((i) => `<li>${i.quantity} × ${formatMoney(i.unit_price_minor, order.currency)}</li>`)
    .join("");
  return {
    to: order.customer_email,
    subject: `Your order ${order.order_number} at ${storeName}`,
    html: `<p>Thank you for your order <strong>${escape(order.order_number)}</strong> at ${escape(storeName)}.</p>` +
      `<ul>${lines}</ul><p>Total: <strong>${formatMoney(order.total_minor, order.currency)}</strong></p>` +
      `<p>Your payment is held in escrow until you confirm delivery.</p>`,
  };
}
