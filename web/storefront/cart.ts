/**
 * One cart per shop, kept in the browser (localStorage): switching shop, reloading or
 * coming back later never empties a cart silently. A cart holds what the buyer typed per
 * product (checked by quantity.ts), so a wrong entry stays visible next to its field.
 */
import { useCallback, useEffect, useState } from "react";

export type Cart = Record<string, string>; // product id → the quantity as typed
type Carts = Record<string, Cart>; // store id → its cart

const KEY = "feyxa.storefront.carts";

function load(): Carts {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return saved && typeof saved === "object" && !Array.isArray(saved) ? saved : {};
  } catch {
    return {};
  }
}

export function useCarts() {
  const [carts, setCarts] = useState<Carts>(load);
  useEffect(() => localStorage.setItem(KEY, JSON.stringify(carts)), [carts]);
  const setQuantity = useCallback((storeId: string, productId: string, typed: string) =>
    setCarts((all) => ({ ...all, [storeId]: { ...all[storeId], [productId]: typed } })), []);
  const empty = useCallback((storeId: string) => setCarts(({ [storeId]: _, ...rest }) => rest), []);
  return { cartOf: (storeId: string | undefined): Cart => (storeId && carts[storeId]) || {}, setQuantity, empty };
}
