/**
 * Every handler of the five engines (commerce, fintech, logistics, trust, intelligence),
 * one folder per engine, one file per handler, each declaring the events it reacts to.
 * A new handler is one file plus its line in engineHandlers(): syncRoutes
 * (src/bus/route-sync.ts) writes its routes into event_subscriptions at start.
 */
import { runAutomations } from "../automations/run.ts";
import type { Handler } from "../../bus/types.ts";
import { type OutboundPolicy, outboundPolicy, type Resolver } from "../../bus/outbound.ts";
import { remoteDelivery } from "../../bus/webhooks/remote-handler.ts";
import { createOrderNotification } from "./commerce/create-notification.ts";
import { decrementStock } from "./commerce/decrement-stock.ts";
import { createResendProvider } from "../services/email/resend.ts";
import type { EmailProvider } from "../services/email/provider.ts";
import { sendConfirmationEmail } from "./commerce/send-confirmation-email.ts";
import { updateOrderStatus } from "./commerce/update-order-status.ts";
import { createEscrow } from "./fintech/create-escrow.ts";
import { processPayout } from "./fintech/process-payout.ts";
import { releaseEscrow } from "./fintech/release-escrow.ts";
import { updatePaymentStatus } from "./fintech/update-payment-status.ts";
import { attributeConversion } from "./intelligence/attribute-conversion.ts";
import { updateDailyMetrics } from "./intelligence/update-daily-metrics.ts";
import { markDelivered } from "./logistics/mark-delivered.ts";
import { auditLog } from "./trust/audit-log.ts";
import { autoAssign } from "./trust/auto-assign.ts";
import { createTicketNotification } from "./trust/create-notification.ts";

/** The source the marketplace's routes are synchronised under (event_subscriptions.managed_by). */
export const ROUTE_SOURCE = "marketplace";

export interface EngineDependencies {
  /** Where emails go; unset: the email outbox table only. */
  email?: EmailProvider;
  /** Where store owners' URLs may be called (src/bus/outbound.ts); unset: https to public addresses only. */
  outbound?: OutboundPolicy;
}

export function engineHandlers(deps: EngineDependencies = {}): Handler[] {
  return [
    createEscrow, updatePaymentStatus, releaseEscrow, processPayout,
    decrementStock, sendConfirmationEmail(deps.email), createOrderNotification, updateOrderStatus,
    markDelivered,
    auditLog, createTicketNotification, autoAssign,
    attributeConversion, updateDailyMetrics,
    runAutomations(deps.email, deps.outbound),
  ];
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
