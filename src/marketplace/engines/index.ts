/**
 * The engines (commerce, fintech, logistics, trust, intelligence, and operations for the
 * people who run the marketplace): one file each,
 * whose every export is a handler declaring the events it reacts to. A new handler of an
 * engine is one export in that engine's file: engineHandlers registers it, and syncRoutes
 * (src/bus/route-sync.ts) writes its routes into event_subscriptions at start.
 */
import { runAutomations } from "../automations/run.ts";
import { type Env, type Handler, outboundPolicy, remoteDelivery, type Resolver } from "../../bus/index.ts";
import { marketplaceSetting } from "../settings.ts";
import { createResendProvider } from "../services/email/resend.ts";
import * as commerce from "./commerce.ts";
import type { EngineDependencies, EngineExport } from "./define.ts";
import * as fintech from "./fintech.ts";
import * as intelligence from "./intelligence.ts";
import * as logistics from "./logistics.ts";
import * as operations from "./operations.ts";
import * as trust from "./trust.ts";

export type { EngineDependencies } from "./define.ts";

/** The source the marketplace's routes are synchronised under (event_subscriptions.managed_by). */
export const ROUTE_SOURCE = "marketplace";

/** Typed so that an engine file exporting anything but handlers does not compile. */
const ENGINES: readonly Readonly<Record<string, EngineExport>>[] = [commerce, fintech, logistics, trust, intelligence, operations];

export function engineHandlers(deps: EngineDependencies = {}): Handler[] {
  const handlers = ENGINES.flatMap((engine) => Object.values(engine).map((h) => (typeof h === "function" ? h(deps) : h)));
  return [...handlers, runAutomations(deps.email, deps.outbound)];
}

/**
 * The engines as configured by the environment (src/marketplace/settings.ts): RESEND_API_KEY
 * (+ EMAIL_FROM, RESEND_BASE_URL) enables real email. Plus the remote deliveries
 * (subscriptions to an Edge Function or a URL), which call Edge Functions with
 * SUPABASE_SERVICE_ROLE_KEY where it is set. Outbound requests follow FEYXA_OUTBOUND_ALLOW
 * and resolve host names with the runtime's `resolve`.
 */
export function engineHandlersFromEnv(env: Env, resolve?: Resolver): Handler[] {
  const apiKey = marketplaceSetting(env, "RESEND_API_KEY");
  const from = marketplaceSetting(env, "EMAIL_FROM");
  const email = apiKey ? createResendProvider({ apiKey, from, baseUrl: marketplaceSetting(env, "RESEND_BASE_URL") }) : undefined;
  const outbound = outboundPolicy(env, resolve);
  const functionKey = marketplaceSetting(env, "SUPABASE_SERVICE_ROLE_KEY");
  return [...engineHandlers({ email, outbound }), remoteDelivery({ functionKey: () => functionKey, outbound })];
}
