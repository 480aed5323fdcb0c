/** The filters as the URL holds them, and as the API takes them. */
import { EVENT_STATUSES, WAITING_REASONS } from "../../../src/bus/vocabulary.ts";
import type { Stats } from "./types.ts";

/** The statuses to filter by: the bus's own list (loaded from its vocabulary, which imports nothing). */
export const STATUSES = EVENT_STATUSES;
/** Why an open event waits, to filter by. */
export const WAITING = WAITING_REASONS;
export const WINDOWS = ["15m", "1h", "6h", "24h", "7d"] as const satisfies readonly Stats["window"][];

export interface Filters {
  type?: string;
  status?: string;
  tenant?: string;
  from?: string;
  to?: string;
  q?: string;
  /** An error fingerprint (from the failures view). */
  fp?: string;
  /** Why open events wait (WAITING_REASONS). */
  waiting?: string;
}

export function readFilters(params: URLSearchParams): Filters {
  const get = (key: string) => params.get(key) || undefined;
  return { type: get("type"), status: get("status"), tenant: get("tenant"), from: get("from"), to: get("to"), q: get("q"), fp: get("fp"), waiting: get("waiting") };
}

/** A stable string of the filters, to tell when they changed. */
export const filterKey = (filters: Filters) => JSON.stringify(filters);

/** The filters in a line, for a dialog's question ("type payout · status dead"). */
export const filterLabel = (filters: Filters, t: (key: "type" | "status" | "search" | "fingerprint" | "store") => string) =>
  ([["type", filters.type], ["status", filters.status], ["search", filters.q], ["fingerprint", filters.fp], ["store", filters.tenant]] as const)
    .filter(([, v]) => v).map(([k, v]) => `${t(k)}: ${v}`).join(" · ");
