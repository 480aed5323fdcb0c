/** Calls to the event-monitor function, with the operator's token; errors carry the server's message. */
import { accessToken } from "./auth.ts";
import type { ActionResult, Alerts, BulkPreview, BulkResult, Detail, EventPage, Failures, Me, RouteRow, Stats } from "./types.ts";

const base = import.meta.env.VITE_SUPABASE_URL
  ? `${import.meta.env.VITE_SUPABASE_URL.replace(/\/$/, "")}/functions/v1/event-monitor`
  : new URL("/functions/v1/event-monitor", window.location.origin).href;

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const token = await accessToken();
  if (!token) throw new ApiError(401, "not signed in");
  const response = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.body ? { "content-type": "application/json" } : {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.message ?? response.statusText, body.field);
  return body as T;
}

const query = (params: Record<string, string | undefined>) => {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1])));
  return q.size ? `?${q}` : "";
};

export const api = {
  me: () => call<Me>("/me"),
  events: (params: Record<string, string | undefined>) => call<EventPage>(`/events${query(params)}`),
  event: (id: string) => call<Detail>(`/events/${id}`),
  stats: (params: Record<string, string | undefined>) => call<Stats>(`/stats${query(params)}`),
  failures: (params: Record<string, string | undefined>) => call<Failures>(`/failures${query(params)}`),
  bulkPreview: (params: Record<string, string | undefined>) => call<BulkPreview>(`/bulk${query(params)}`),
  bulk: (body: Record<string, unknown>) => call<BulkResult>("/bulk", { method: "POST", body: JSON.stringify(body) }),
  routes: (window: string) => call<{ window: string; routes: RouteRow[] }>(`/routes${query({ window })}`),
  setRoute: (body: Record<string, unknown>) => call<ActionResult>("/routes", { method: "POST", body: JSON.stringify(body) }),
  actions: () => call<{ actions: AuditRow[] }>("/actions"),
  act: (action: Record<string, unknown>) => call<ActionResult>("/actions", { method: "POST", body: JSON.stringify(action) }),
  alerts: () => call<Alerts>("/alerts"),
  changeAlert: (body: Record<string, unknown>) => call<{ rule: { id: string; name: string } }>("/alerts", { method: "POST", body: JSON.stringify(body) }),
};

export interface AuditRow {
  id: string;
  actor_email: string | null;
  kind: string;
  target: Record<string, unknown>;
  result: Record<string, unknown> | null;
  created_at: string;
  /** For a bulk action's batch: how many events it acted on. */
  events: number;
}
