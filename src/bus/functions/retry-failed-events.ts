/**
 * retry-failed-events: the periodic sweep (pg_cron on Supabase, a timer locally).
 * Claims, in bounded batches, failed events whose retry time has come, events whose
 * worker vanished (lease expired) and pending events whose wake-up was lost, processes
 * them, and answers with a summary. One invocation does a bounded amount of work that fits
 * the Edge Runtime's CPU limit (src/bus/functions/drain.ts) and says whether more is due.
 * Answers only to the server (pg_cron through pg_net, the local scheduler).
 */
import type { Bus } from "../bus.ts";
import type { FetchHandler } from "../http.ts";
import { retryInput } from "../schemas.ts";
import type { AuthSource } from "./caller.ts";
import { drainLimits, drainWithin } from "./drain.ts";
import { reportsAlive } from "./reports-alive.ts";
import { defineFunction, type Env, json, route, serveFunction } from "./pipeline.ts";

export const retryFailedEvents = defineFunction({
  name: "retry-failed-events",
  auth: "server",
  routes: [route("POST", {
    body: retryInput, maxBytes: 4096, emptyBody: true,
    handle: reportsAlive("retry-failed-events", async ({ bus, body, env }) =>
      json(await drainWithin(bus, drainLimits(body, env(), "FEYXA_RETRY_BUDGET_MS")))),
  })],
});

export interface RetryFailedEventsOptions {
  auth: AuthSource;
  /** The environment, read per request: the FEYXA_DRAIN_* limits and FEYXA_RETRY_BUDGET_MS. */
  env?: () => Env;
  onError?: (error: unknown) => void;
}

/** The function on its own, as a handler (library use, the tests). */
export function createRetryFailedEvents(bus: Bus, options: RetryFailedEventsOptions): FetchHandler {
  return serveFunction(retryFailedEvents, { ...options, bus, env: options.env ?? (() => ({})) });
}
