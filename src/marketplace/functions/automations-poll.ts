/**
 * automations-poll (POST, server only): one round of the poller (pg_cron every minute on
 * Supabase, a timer locally). Polls follow FEYXA_OUTBOUND_ALLOW, read per request, and
 * resolve host names with the runtime's `resolve` (src/bus/outbound.ts).
 */
import { requireServer } from "../../bus/auth.ts";
import type { Bus } from "../../bus/bus.ts";
import { type FetchHandler, json, requireMethod, withErrors } from "../../bus/http.ts";
import { outboundPolicy, type Resolver } from "../../bus/outbound.ts";
import { pollDue } from "../automations/poll.ts";
import { type AuthSource, callerOf } from "../../bus/functions/caller.ts";

export interface AutomationsPollOptions {
  auth: AuthSource;
  env?: () => Record<string, string | undefined>;
  resolve?: Resolver;
  onError?: (error: unknown) => void;
}

export function createAutomationsPoll(bus: Bus, options: AutomationsPollOptions): FetchHandler {
  return withErrors(async (request) => {
    requireMethod(request, "POST");
    requireServer(await callerOf(request, options.auth));
    return json(await pollDue(bus.sql, { outbound: outboundPolicy(options.env?.() ?? {}, options.resolve) }));
  }, options.onError);
}
