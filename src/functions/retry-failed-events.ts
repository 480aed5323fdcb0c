/**
 * retry-failed-events: the periodic sweep (pg_cron on Supabase, a timer locally).
 * Claims, in bounded batches within a time budget, failed events whose retry time has
 * come, events whose worker vanished (lease expired) and pending events whose wake-up
 * was lost, processes them, and answers with a summary.
 */
import type { Bus } from "../core/bus.ts";
import { type FetchHandler, json, readJson, requireMethod, withErrors } from "../core/http.ts";
import { retryInput } from "../core/schemas.ts";
import { requireServer } from "../core/auth.ts";
import { type AuthSource, callerOf } from "./caller.ts";
import { drainWithin } from "./drain.ts";

/** Answers only to the server (pg_cron through pg_net, the local scheduler). */
export function createRetryFailedEvents(bus: Bus, options: { auth: AuthSource; onError?: (error: unknown) => void }): FetchHandler {
  return withErrors(async (request) => {
    requireMethod(request, "POST");
    requireServer(await callerOf(request, options.auth));
    const input = await readJson(request, retryInput, { maxBytes: 4096, allowEmpty: true });
    const summary = await drainWithin(bus, input.budget_ms ?? 10_000, input.batch_size ?? 50);
    return json(summary);
  }, options.onError);
}
