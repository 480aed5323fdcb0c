/**
 * The engines (commerce, fintech, logistics, trust, intelligence, and operations for the
 * people who run the marketplace): one file each,
 * whose every export is a handler declaring the events it reacts to. A new handler of an
 * engine is one export in that engine's file: engineHandlers registers it, and syncRoutes
 * (src/bus/route-sync.ts) writes its routes into event_subscriptions at start.
 */
import { runAutomations } from "../automations/run.ts";
import { type Handler, outboundPolicy, remoteDelivery, type Resolver } from "../../bus/index.ts";
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
 * The engines as configured by the environment: RESEND_API_KEY (+ EMAIL_FROM, RESEND_BASE_URL)
 * enables real email. Plus the remote deliveries (subscriptions to an Edge Function or a URL),
 * which call Edge Functions with SUPABASE_SERVICE_ROLE_KEY where it is set. Outbound requests
 * follow FEYXA_OUTBOUND_ALLOW and resolve host names with the runtime's `resolve`.
 */
export function engineHandlersFromEnv(env: Record<string, string | undefined>, resolve?: Resolver): Handler[] {
  const email = env.RESEND_API_KEY
    ? createResendProvider({ apiKey: env.RESEND_API_KEY, from: env.EMAIL_FROM ?? "Feyxa <orders@feyxa.local>", baseUrl: env.RESEND_BASE_URL })
    : undefined;
  const outbound = outboundPolicy(env, resolve);
  return [...engineHandlers({ email, outbound }), remoteDelivery({ functionKey: () => env.SUPABASE_SERVICE_ROLE_KEY, outbound })];
}
