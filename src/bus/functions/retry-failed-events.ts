/**
 * retry-failed-events: the periodic sweep (pg_cron on Supabase, a timer locally).
 * Claims, in bounded batches, failed events whose retry time has come, events whose
 * worker vanished (lease expired) and pending events whose wake-up was lost, processes
 * them, and answers with a summary. One invocation does a bounded amount of work that fits
 * the Edge Runtime's CPU limit (src/bus/functions/drain.ts) and says whether more is due.
 */
import type { Bus } from "../bus.ts";
import { type FetchHandler, json, readJson, requireMethod, withErrors } from "../http.ts";
import { retryInput } from "../schemas.ts";
import { requireServer } from "../auth.ts";
import { type AuthSource, callerOf } from "./caller.ts";
import { drainLimits, drainWithin } from "./drain.ts";

export interface RetryFailedEventsOptions {
  auth: AuthSource;
  /** The environment, read per request: the FEYXA_DRAIN_* limits and FEYXA_RETRY_BUDGET_MS. */
  env?: () => Record<string, string | undefined>;
  onError?: (error: unknown) => void;
}

/** Answers only to the server (pg_cron through pg_net, the local scheduler). */
export function createRetryFailedEvents(bus: Bus, options: RetryFailedEventsOptions): FetchHandler {
  return withErrors(async (request) => {
    requireMethod(request, "POST");
    requireServer(await callerOf(request, options.auth));
    const input = await readJson(request, retryInput, { maxBytes: 4096, allowEmpty: true });
    const limits = drainLimits(input, options.env?.() ?? {}, { env: "FEYXA_RETRY_BUDGET_MS", defaultMs: 10_000 });
    return json(await drainWithin(bus, limits));
  }, options.onError);
}
