/** automations-poll (POST, server only): one round of the poller (pg_cron every minute on Supabase, a timer locally). */
import { requireServer } from "../core/auth.ts";
import type { Bus } from "../core/bus.ts";
import { type FetchHandler, json, requireMethod, withErrors } from "../core/http.ts";
import { pollDue } from "../automations/poll.ts";
import { type AuthSource, callerOf } from "./caller.ts";

export function createAutomationsPoll(bus: Bus, options: { auth: AuthSource; onError?: (error: unknown) => void }): FetchHandler {
  return withErrors(async (request) => {
    requireMethod(request, "POST");
    requireServer(await callerOf(request, options.auth));
    return json(await pollDue(bus.sql));
  }, options.onError);
}
