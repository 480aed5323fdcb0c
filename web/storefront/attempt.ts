/**
 * One Idempotency-Key per checkout attempt: made when the buyer presses Order, kept while
 * that same attempt is sent again (a retry after an error or a lost answer, a double-click),
 * and replaced once the attempt succeeded or what is ordered changed (cart, email, payment).
 * The checkout function answers a repeated key with the first answer, so however often an
 * attempt is sent, it places one order (docs/http-functions.md, "Idempotency keys").
 */
import { useCallback, useRef } from "react";
import type { CheckoutInput } from "./api.ts";

interface Attempt {
  key: string;
  /** The request the key was made for: another one needs another key. */
  sent: string;
}

export function useCheckoutAttempt() {
  const attempt = useRef<Attempt>(undefined);
  /** The key for this request: the current attempt's when it is the same request, else a new one. */
  const keyFor = useCallback((input: CheckoutInput): string => {
    const sent = JSON.stringify(input);
    if (attempt.current?.sent !== sent) attempt.current = { key: newKey(), sent };
    return attempt.current.key;
  }, []);
  /** The attempt succeeded: the next order is a new one. */
  const done = useCallback(() => {
    attempt.current = undefined;
  }, []);
  return { keyFor, done };
}

/** A random uuid (v4); crypto.randomUUID needs a secure context, getRandomValues does not. */
function newKey(): string {
  if (typeof crypto.randomUUID === "function" && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
