/**
 * Every function the bus serves, by the name Supabase deploys it under; each answers CORS
 * preflights and labels its answers (src/bus/cors.ts), as the Deno entrypoints do.
 */
import type { Bus } from "../../bus/bus.ts";
import type { AuthConfig } from "../../bus/auth.ts";
import { withCorsAll } from "../../bus/cors.ts";
import type { FetchHandler } from "../../bus/http.ts";
import type { Resolver } from "../../bus/outbound.ts";
import { createEventMonitor } from "../../bus/functions/event-monitor.ts";
import { authorizeClientEmit, clientEmittable } from "../engines/authorize.ts";
import { eventCatalog } from "../engines/catalog.ts";
import { createAutomations } from "./automations.ts";
import { createAutomationsPoll } from "./automations-poll.ts";
import { createCheckout } from "./checkout.ts";
import { createConfirmDelivery } from "./confirm-delivery.ts";
import { createProcessEvent } from "../../bus/functions/process-event.ts";
import { createRetryFailedEvents } from "../../bus/functions/retry-failed-events.ts";
import { createOrderStatus, createStorefront } from "./storefront.ts";
import { createWebhooks } from "../../bus/functions/webhooks.ts";

export function createFunctions(
  bus: Bus,
  onError?: (error: unknown) => void,
  /** How every function verifies its callers (keys, JWTs); without it, the functions answer 503. */
  auth: () => AuthConfig | undefined = () => undefined,
  /** The environment, read per request by the functions configured there (webhooks' secrets). */
  env: () => Record<string, string | undefined> = () => ({}),
  /** The runtime's DNS lookup, for the outbound guard (automations-poll); without it host names are refused. */
  resolve?: Resolver,
): Record<string, FetchHandler> {
  return withCorsAll({
    "process-event": createProcessEvent(bus, {
      auth, env, onError, payloadSchemas: eventCatalog, clientEmittable, authorizeEmit: authorizeClientEmit,
    }),
    checkout: createCheckout(bus, { auth, onError }),
    "confirm-delivery": createConfirmDelivery(bus, { auth, onError }),
    storefront: createStorefront(bus, { auth, onError }),
    "order-status": createOrderStatus(bus, { auth, onError }),
    "retry-failed-events": createRetryFailedEvents(bus, { auth, env, onError }),
    automations: createAutomations(bus, { auth, onError }),
    "automations-poll": createAutomationsPoll(bus, { auth, env, resolve, onError }),
    "event-monitor": createEventMonitor(bus, { auth, onError }),
    webhooks: createWebhooks(bus, { env, onError }),
  }, onError);
}
