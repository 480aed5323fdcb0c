import { callFunction } from "../shared/supabase.ts";

export interface Product { id: string; name: string; price_minor: number; stock: number; allow_backorder: boolean }
export interface Store { id: string; name: string; slug: string; currency: string; products: Product[] }
export interface HandlerRun { handler_name: string; status: string; attempt: number; duration_ms: number; error_message: string | null }
export interface BusEventView { id: string; event_type: string; status: string; attempt: number; error_message: string | null; handlers: HandlerRun[] }
export interface OrderView {
  id: string; order_number: string; status: string; total_minor: number; currency: string; cancel_reason: string | null;
  store_name: string; payment_status: string; delivery_status: string; escrow_status: string | null; emails: number;
}
export interface PlacedOrder { order_id: string; order_number: string; event_id: string; total_minor: number; currency: string }

export const api = {
  stores: () => callFunction<{ stores: Store[] }>("storefront", { method: "GET" }).then((r) => r.stores),
  checkout: (body: { store_id: string; customer_email: string; payment_method: string; items: { product_id: string; quantity: number }[] }) =>
    callFunction<PlacedOrder>("checkout", { body }),
  processEvent: (eventId: string) => callFunction("process-event", { body: { event_id: eventId } }),
  orderStatus: (orderId: string) =>
    callFunction<{ order: OrderView; events: BusEventView[] }>(`order-status?order_id=${encodeURIComponent(orderId)}`, { method: "GET" }),
  pay: (orderId: string) => callFunction("demo-pay", { body: { order_id: orderId } }),
  deliver: (orderId: string) => callFunction("demo-deliver", { body: { order_id: orderId } }),
  confirm: (orderId: string, email: string) => callFunction("confirm-delivery", { body: { order_id: orderId, customer_email: email } }),
};

export const money = (minor: number, currency: string) => `${minor.toLocaleString("en-US")} ${currency}`;
