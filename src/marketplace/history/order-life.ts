/**
 * An order's life, from its stream: created → paid → delivered → confirmed → paid out, with a
 * timeline. A reducer of the bus's event-sourced history (rebuild, src/bus/history/rebuild.ts):
 * `rebuild(sql, "order", orderId, orderLife)`.
 */
import type { Reducer } from "../../bus/index.ts";

export interface OrderLife {
  status: "none" | "created" | "paid" | "delivered" | "confirmed" | "paid_out" | "cancelled";
  total_minor: number | null;
  currency: string | null;
  notes: number;
  timeline: { version: number; type: string; at: string }[];
}

const STEP: Record<string, OrderLife["status"]> = {
  "order.created": "created",
  "order.paid": "paid",
  "order.delivered": "delivered",
  "order.confirmed": "confirmed",
  "order.paid_out": "paid_out",
  "order.cancelled": "cancelled",
};

export const orderLife: Reducer<OrderLife> = {
  initial: { status: "none", total_minor: null, currency: null, notes: 0, timeline: [] },
  apply(state, event) {
    const next = { ...state, timeline: [...state.timeline, { version: event.version, type: event.type, at: new Date(event.at).toISOString() }] };
    if (event.type === "order.created") {
      next.total_minor = typeof event.payload.total_minor === "number" ? event.payload.total_minor : null;
      next.currency = typeof event.payload.currency === "string" ? event.payload.currency : null;
    }
    if (event.type === "order.noted") next.notes++;
    return STEP[event.type] ? { ...next, status: STEP[event.type] } : next;
  },
};
