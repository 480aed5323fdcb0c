/**
 * The commerce engine: orders and their stock, the store's dashboard, the buyer's mail.
 * Every handler this file exports is registered (engineHandlers, ./index.ts).
 */
import { type Handler, NonRetriableError } from "../../bus/index.ts";
import { orderCancellation } from "../services/email/order-cancellation.ts";
import { orderConfirmation } from "../services/email/order-confirmation.ts";
import { deliverEmail } from "../services/email/outbox.ts";
import { notify } from "../services/notify.ts";
import { type EngineDependencies, onEvent } from "./define.ts";
import { formatMoney } from "./format.ts";
import { reserveStock } from "./reserve-stock.ts";

/**
 * order.created: take the ordered quantities from stock, once. Out of stock is a business
 * error, not retriable; the SQL has already compensated (order cancelled, escrow refunded,
 * order.cancelled emitted) when this throws, and answers the same on every later call, so a
 * retry after a crash refuses the same way.
 */
export const decrementStock = onEvent("commerce.decrement_stock", ["order.created"], async (event, { sql }) => {
  const decision = await reserveStock(sql, event.aggregateId);
  if (decision.startsWith("out_of_stock")) throw new NonRetriableError(decision.replace("out_of_stock: ", "out of stock: "));
});

/**
 * order.created: email the buyer a confirmation, once, through the provider when one is
 * configured, else into the outbox. A provider outage fails this handler alone; the
 * retry runs only it. It runs after commerce.decrement_stock: an order out of stock is
 * refused there (this one is then blocked, never run), so the order it reads has its
 * stock, unless it was cancelled otherwise, and a cancelled order is not confirmed
 * (commerce.send_cancellation_email tells the buyer, from order.cancelled).
 */
export function sendConfirmationEmail({ email }: EngineDependencies): Handler {
  return onEvent("commerce.send_confirmation_email", ["order.created"], async (event, ctx) => {
    const [order] = await ctx.sql<{ store_name: string; status: string }[]>`
      select s.name as store_name, o.status from orders o join stores s on s.id = o.store_id where o.id = ${event.aggregateId}::uuid`;
    if (order.status === "cancelled") return;
    await deliverEmail(ctx, email, { ...orderConfirmation(event.payload, order.store_name), storeId: event.tenantId });
  }, { timeoutMs: 20_000, after: ["commerce.decrement_stock"] });
}

/**
 * order.cancelled: tell the buyer their order was cancelled and why, once (the outbox row
 * is keyed by the handler run, as the confirmation's), through the provider or the outbox.
 */
export function sendCancellationEmail({ email }: EngineDependencies): Handler {
  return onEvent("commerce.send_cancellation_email", ["order.cancelled"], async (event, ctx) => {
    const [order] = await ctx.sql<{ store_name: string; customer_email: string }[]>`
      select s.name as store_name, o.customer_email from orders o join stores s on s.id = o.store_id where o.id = ${event.aggregateId}::uuid`;
    if (!order) throw new NonRetriableError(`no order ${event.aggregateId} to tell its buyer about`);
    await deliverEmail(ctx, email, { ...orderCancellation(event.payload, order.customer_email, order.store_name), storeId: event.tenantId });
  }, { timeoutMs: 20_000 });
}

/** order.created: tell the store, in its dashboard, that an order came in. */
export const createOrderNotification = onEvent("commerce.create_notification", ["order.created"], async (event, ctx) => {
  const { order_number, total_minor, currency, items } = event.payload;
  await notify(ctx, {
    storeId: event.tenantId,
    kind: "order.created",
    title: `New order ${order_number}`,
    body: `${items.length} line(s), ${formatMoney(total_minor, currency)}`,
    data: { order_id: event.aggregateId },
  });
});

/** payment.paid: the order is paid (moving forward only: a delivered order stays delivered). */
export const updateOrderStatus = onEvent("commerce.update_order_status", ["payment.paid"], async (event, { sql }) => {
  await sql`select advance_order_status(${event.payload.order_id}::uuid, 'paid')`;
});
