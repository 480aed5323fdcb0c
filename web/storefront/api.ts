/** The storefront's calls to its functions, and what they answer. */
import { callFunction } from "../shared/supabase.ts";
import { accessToken } from "./auth.ts";

export interface Product { id: string; name: string; price_minor: number; stock: number; allow_backorder: boolean }
export interface Store { id: string; name: string; slug: string; currency: string; products: Product[] }
export interface HandlerRun { handler_name: string; status: string; attempt: number; duration_ms: number; error_message: string | null }
export interface BusEventView { id: string; event_type: string; status: string; attempt: number; error_message: string | null; handlers: HandlerRun[] }
export interface OrderItemView { product_id: string; name: string; quantity: number; stock: number; allow_backorder: boolean }
export interface OrderView {
  id: string; store_id: string; order_number: string; status: string; total_minor: number; currency: string; cancel_reason: string | null; created_at: string;
  store_name: string; payment_status: string; delivery_status: string; escrow_status: string | null; emails: number;
  stock_taken: boolean; items: OrderItemView[];
}
export interface PlacedOrder { order_id: string; order_number: string; event_id: string; total_minor: number; currency: string }
export interface MyOrder {
  id: string; order_number: string; store_id: string; store_name: string; status: string;
  total_minor: number; currency: string; created_at: string; items: number;
}
export interface CheckoutInput { store_id: string; customer_email: string; payment_method: string; items: { product_id: string; quantity: number }[] }

export const api = {
  stores: () => callFunction<{ stores: Store[] }>("storefront", { method: "GET" }).then((r) => r.stores),
  // A signed-in buyer's order is theirs: checkout takes the buyer from the token. The key is
  // the attempt's: a repeat of it (a retry, a double-click) gets the same order back.
  checkout: (body: CheckoutInput, idempotencyKey: string) =>
    callFunction<PlacedOrder>("checkout", { body, accessToken: accessToken(), headers: { "idempotency-key": idempotencyKey } }),
  processEvent: (eventId: string) => callFunction("process-event", { body: { event_id: eventId } }),
  orderStatus: (orderId: string) =>
    callFunction<{ order: OrderView; events: BusEventView[] }>(`order-status?order_id=${encodeURIComponent(orderId)}`, { method: "GET" }),
  myOrders: (token: string) => callFunction<{ orders: MyOrder[] }>("my-orders", { method: "GET", accessToken: token }).then((r) => r.orders),
  pay: (orderId: string) => callFunction("demo-pay", { body: { order_id: orderId } }),
  deliver: (orderId: string) => callFunction("demo-deliver", { body: { order_id: orderId } }),
  // As the signed-in buyer when there is one (their order is theirs by account); a guest order by its email.
  confirm: (orderId: string, email: string | undefined) =>
    callFunction("confirm-delivery", { body: { order_id: orderId, ...(email ? { customer_email: email } : {}) }, accessToken: accessToken() }),
};
