/**
 * A checkout refusal, put where the buyer can act on it. The checkout function names the
 * field it refuses (customer_email, payment_method, items.<n>.quantity, store_id); each
 * becomes a message in the buyer's words next to that field. Anything else (a 5xx, no
 * answer at all) is one message by the button, and the cart is kept either way.
 */
import { FunctionError } from "../shared/supabase.ts";
import type { CheckoutInput } from "./api.ts";
import type { Problem } from "./quantity.ts";

/** Where a message goes: "email", "payment", "qty:<product id>", or "form" (by the button). */
export type FieldId = "email" | "payment" | "form" | `qty:${string}`;
export const quantityField = (productId: string): FieldId => `qty:${productId}`;

export interface Placed {
  field: FieldId;
  problem: Problem;
  /** The stock the page shows is stale: reload it (a shortage found at order time). */
  reloadStock?: boolean;
}

export function placeCheckoutError(thrown: unknown, sent: CheckoutInput): Placed {
  if (!(thrown instanceof FunctionError) || thrown.status === undefined) return { field: "form", problem: { key: "errOffline" } };
  if (thrown.status >= 500 || !thrown.field) return { field: "form", problem: { key: "errGeneric" } };
  const line = /^items\.(\d+)\.(quantity|product_id)$/.exec(thrown.field);
  const productId = line && sent.items[Number(line[1])]?.product_id;
  if (productId && thrown.status === 409) return { field: quantityField(productId), problem: { key: "errShortNow" }, reloadStock: true };
  if (productId && line[2] === "quantity") return { field: quantityField(productId), problem: { key: "errWholeNumber" } };
  if (productId) return { field: quantityField(productId), problem: { key: "errItemGone" }, reloadStock: true };
  if (thrown.field === "customer_email") return { field: "email", problem: { key: "errEmail" } };
  if (thrown.field === "payment_method") return { field: "payment", problem: { key: "errPayment" } };
  if (thrown.field === "store_id") return { field: "form", problem: { key: "errStore" }, reloadStock: true };
  if (thrown.field === "items") return { field: "form", problem: { key: "errItemGone" }, reloadStock: true };
  return { field: "form", problem: { key: "errGeneric" } };
}

/** The email check checkout makes (the orders table's), before anything is sent. */
export const looksLikeEmail = (email: string) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) && email.length <= 254;
