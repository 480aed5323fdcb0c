/**
 * A guest's orders, remembered on this device (localStorage): a guest has no account, and
 * an order's id is what lets them watch it, so the page keeps the ids of the orders placed
 * here, with the email each was placed with (confirming receipt of a guest order asks for
 * it). The newest GUEST_ORDERS_KEPT are kept; "My orders" lists them for a guest.
 */
const KEY = "feyxa.storefront.guest-orders";
export const GUEST_ORDERS_KEPT = 10;

export interface GuestOrder {
  id: string;
  email: string;
}

export function guestOrders(): GuestOrder[] {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(saved) ? saved.filter((o) => typeof o?.id === "string" && typeof o?.email === "string") : [];
  } catch {
    return [];
  }
}

export function rememberGuestOrder(order: GuestOrder): void {
  const rest = guestOrders().filter((o) => o.id !== order.id);
  localStorage.setItem(KEY, JSON.stringify([order, ...rest].slice(0, GUEST_ORDERS_KEPT)));
}

/** The email a guest order of this device was placed with. */
export const guestOrderEmail = (orderId: string): string | undefined => guestOrders().find((o) => o.id === orderId)?.email;
