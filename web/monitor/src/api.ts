/** Calls to the event-monitor function, with the operator's token; errors carry the server's message. */
import { accessToken } from "./auth.ts";
import type { MonitorAnswers } from "./types.ts";

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

/** Each call, typed by the answer the function gives it (./types.ts: the API's own schemas). */
export const api = {
  me: () => call<MonitorAnswers["me"]>("/me"),
  events: (params: Record<string, string | undefined>) => call<MonitorAnswers["events"]>(`/events${query(params)}`),
  event: (id: string) => call<MonitorAnswers["event"]>(`/events/${id}`),
  story: (q: string) => call<MonitorAnswers["story"]>(`/story${query({ q })}`),
  stats: (params: Record<string, string | undefined>) => call<MonitorAnswers["stats"]>(`/stats${query(params)}`),
  failures: (params: Record<string, string | undefined>) => call<MonitorAnswers["failures"]>(`/failures${query(params)}`),
  bulkPreview: (params: Record<string, string | undefined>) => call<MonitorAnswers["bulkPreview"]>(`/bulk${query(params)}`),
  bulk: (body: Record<string, unknown>) => call<MonitorAnswers["bulk"]>("/bulk", { method: "POST", body: JSON.stringify(body) }),
  routes: (window: string) => call<MonitorAnswers["routes"]>(`/routes${query({ window })}`),
  setRoute: (body: Record<string, unknown>) => call<MonitorAnswers["setRoute"]>("/routes", { method: "POST", body: JSON.stringify(body) }),
  actions: () => call<MonitorAnswers["actions"]>("/actions"),
  act: (action: Record<string, unknown>) => call<MonitorAnswers["act"]>("/actions", { method: "POST", body: JSON.stringify(action) }),
  alerts: () => call<MonitorAnswers["alerts"]>("/alerts"),
  changeAlert: (body: Record<string, unknown>) => call<MonitorAnswers["changeAlert"]>("/alerts", { method: "POST", body: JSON.stringify(body) }),
  health: () => call<MonitorAnswers["health"]>("/health"),
};
