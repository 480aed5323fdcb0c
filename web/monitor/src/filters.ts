/** The filters as the URL holds them, and as the API takes them. */
export const STATUSES = ["pending", "processing", "completed", "failed", "dead", "discarded", "cancelled"] as const;
export const WINDOWS = ["15m", "1h", "6h", "24h", "7d"] as const;

export interface Filters {
  type?: string;
  status?: string;
  tenant?: string;
  from?: string;
  to?: string;
  q?: string;
}

export function readFilters(params: URLSearchParams): Filters {
  const get = (key: string) => params.get(key) || undefined;
  return { type: get("type"), status: get("status"), tenant: get("tenant"), from: get("from"), to: get("to"), q: get("q") };
}

/** A stable string of the filters, to tell when they changed. */
export const filterKey = (filters: Filters) => JSON.stringify(filters);
