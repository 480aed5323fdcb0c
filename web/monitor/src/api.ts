/**
 * Calls to the event-monitor function, with the operator's token; errors carry the server's
 * message. Reads take the poll's AbortSignal, so that a request made for inputs that changed
 * since is cancelled rather than left to run beside the next.
 */
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
type Params = Record<string, string | undefined>;
const post = (body: Record<string, unknown>): RequestInit => ({ method: "POST", body: JSON.stringify(body) });

/** Each call, typed by the answer the function gives it (./types.ts: the API's own schemas). */
export const api = {
  me: () => call<MonitorAnswers["me"]>("/me"),
  events: (params: Params, signal?: AbortSignal) => call<MonitorAnswers["events"]>(`/events${query(params)}`, { signal }),
  event: (id: string, signal?: AbortSignal) => call<MonitorAnswers["event"]>(`/events/${id}`, { signal }),
  story: (q: string, signal?: AbortSignal) => call<MonitorAnswers["story"]>(`/story${query({ q })}`, { signal }),
  stats: (params: Params, signal?: AbortSignal) => call<MonitorAnswers["stats"]>(`/stats${query(params)}`, { signal }),
  failures: (params: Params, signal?: AbortSignal) => call<MonitorAnswers["failures"]>(`/failures${query(params)}`, { signal }),
  bulkPreview: (params: Params) => call<MonitorAnswers["bulkPreview"]>(`/bulk${query(params)}`),
  bulk: (body: Record<string, unknown>) => call<MonitorAnswers["bulk"]>("/bulk", post(body)),
  routes: (window: string, signal?: AbortSignal) => call<MonitorAnswers["routes"]>(`/routes${query({ window })}`, { signal }),
  routeWaiting: (params: { event_pattern: string; handler_name: string }) => call<MonitorAnswers["routeWaiting"]>(`/routes/waiting${query(params)}`),
  setRoute: (body: Record<string, unknown>) => call<MonitorAnswers["setRoute"]>("/routes", post(body)),
  actions: (signal?: AbortSignal) => call<MonitorAnswers["actions"]>("/actions", { signal }),
  act: (action: Record<string, unknown>) => call<MonitorAnswers["act"]>("/actions", post(action)),
  alerts: (signal?: AbortSignal) => call<MonitorAnswers["alerts"]>("/alerts", { signal }),
  changeAlert: (body: Record<string, unknown>) => call<MonitorAnswers["changeAlert"]>("/alerts", post(body)),
  health: (signal?: AbortSignal) => call<MonitorAnswers["health"]>("/health", { signal }),
};
