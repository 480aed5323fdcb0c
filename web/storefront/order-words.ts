/**
 * An order's state in the buyer's words: the headline, payment, delivery and "your money"
 * (the escrow, never named), each consistent with the others (a cancelled order has
 * nothing to pay and will not be sent), and its steps without handler names or attempts.
 */
import type { BusEventView, OrderView } from "./api.ts";
import { isStringKey, type StringKey } from "./strings.ts";

const word = (key: string, fallback: StringKey): StringKey => (isStringKey(key) ? key : fallback);

type OrderState = Pick<OrderView, "status" | "payment_status" | "delivery_status" | "escrow_status">;

/** The headline alone, from the order's status (all "my orders" has). */
export const statusWord = (status: string): StringKey => word(`st_${status}`, "st_pending_payment");

export function orderWords(order: OrderState): { headline: StringKey; payment: StringKey; delivery: StringKey; money: StringKey } {
  const cancelled = order.status === "cancelled";
  return {
    headline: statusWord(order.status),
    payment: cancelled && order.payment_status === "pending" ? "pay_none" : word(`pay_${order.payment_status}`, "pay_pending"),
    delivery: cancelled && order.delivery_status === "pending" ? "del_none" : word(`del_${order.delivery_status}`, "del_pending"),
    money: word(`esc_${order.escrow_status ?? "none"}`, "esc_none"),
  };
}

/** The items that were short, for an order cancelled out of stock (what is left now, by item). */
export function shortItems(order: OrderView) {
  if (order.status !== "cancelled" || !order.cancel_reason?.startsWith("out of stock")) return undefined;
  return order.items.filter((i) => !i.allow_backorder && i.stock < i.quantity);
}

export const eventWord = (event: BusEventView): StringKey => word(`ev_${event.event_type.replace(".", "_")}`, "ev_other");
export const stepWord = (handlerName: string): StringKey => word(`h_${handlerName.split(".")[1] ?? ""}`, "h_other");
export const stepStatusWord = (status: string): StringKey => word(`step_${status}`, "step_pending");
