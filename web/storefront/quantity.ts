/**
 * A cart line's quantity as the buyer typed it, checked against the stock the page shows:
 * whole numbers only, never more than the stock (unless the product is made to order), at
 * most 1,000 (what checkout accepts). The cart counts a line only when it passes.
 */
import type { Product } from "./api.ts";
import type { StringKey } from "./strings.ts";

export const MAX_QUANTITY = 1000;

export interface Problem {
  key: StringKey;
  vars?: Record<string, string | number>;
}

/** The quantity the line adds to the cart (0 while it has a problem), and the problem, in the buyer's words. */
export function checkQuantity(raw: string | undefined, product: Product): { quantity: number; problem?: Problem } {
  const text = (raw ?? "").trim();
  if (text === "") return { quantity: 0 };
  if (!/^\d+$/.test(text)) return { quantity: 0, problem: { key: "errWholeNumber" } };
  const quantity = Number(text);
  if (quantity > MAX_QUANTITY) return { quantity: 0, problem: { key: "errTooMany", vars: { n: MAX_QUANTITY } } };
  if (!product.allow_backorder && quantity > product.stock) {
    return { quantity: 0, problem: product.stock <= 0 ? { key: "errSoldOut" } : { key: "errOverStock", vars: { n: product.stock } } };
  }
  return { quantity };
}

/** The most the quantity input offers (its max). */
export const maxQuantity = (product: Product) => product.allow_backorder ? MAX_QUANTITY : Math.max(0, product.stock);
