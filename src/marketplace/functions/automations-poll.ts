/**
 * automations-poll (POST, server only): one round of the poller (pg_cron every minute on
 * Supabase, a timer locally). Polls follow FEYXA_OUTBOUND_ALLOW, read per request, and
 * resolve host names with the runtime's `resolve` (src/bus/outbound.ts). It reads no body.
 */
import { type Bus, outboundPolicy, type Resolver } from "../../bus/index.ts";
import { type AuthSource, defineFunction, type Env, type FetchHandler, json, route, serveFunction } from "../../bus/functions/index.ts";
import { pollDue } from "../automations/poll.ts";

export const automationsPoll = defineFunction({
  name: "automations-poll",
  auth: "server",
  routes: [route("POST", {
    handle: async ({ bus, env, resolve }) => json(await pollDue(bus.sql, { outbound: outboundPolicy(env(), resolve) })),
  })],
});

/** The function on its own, as a handler (the tests drive one poller round with it). */
export function createAutomationsPoll(bus: Bus, options: { auth: AuthSource; env?: () => Env; resolve?: Resolver }): FetchHandler {
  return serveFunction(automationsPoll, { ...options, bus, env: options.env ?? (() => ({})) });
}
