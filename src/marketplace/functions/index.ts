/**
 * THE list of the HTTP functions the app deploys: the bus's own (retry-failed-events,
 * event-monitor, webhooks; process-event with the app's rules) and the shop's. Each entry
 * is imported from the module that exports it (the bus's, from its "./functions" entry),
 * which its Deno entrypoint imports alone. Every runtime serves this list through the one
 * pipeline (src/bus/functions/pipeline.ts): the local
 * gateway via createFunctions, Supabase via the Deno entrypoints and config.toml blocks
 * that `npm run gen:functions` (scripts/gen-functions.ts) writes from it.
 *
 * Adding a function: its own file (defineFunction), one entry here, `npm run gen:functions`
 * (docs/http-functions.md).
 */
import type { Bus, Resolver } from "../../bus/index.ts";
import {
  type AuthConfig,
  eventMonitor,
  type FetchHandler,
  type FunctionDefinition,
  metrics,
  retryFailedEvents,
  serveFunctions,
  webhooks,
} from "../../bus/functions/index.ts";
import { automations } from "./automations.ts";
import { automationsPoll } from "./automations-poll.ts";
import { checkout } from "./checkout.ts";
import { confirmDelivery } from "./confirm-delivery.ts";
import { myOrders } from "./my-orders.ts";
import { orderStatus } from "./order-status.ts";
import { processEvent } from "./process-event.ts";
import { storefront } from "./storefront.ts";

export const functions: readonly FunctionDefinition[] = [
  processEvent,
  retryFailedEvents,
  checkout,
  confirmDelivery,
  eventMonitor,
  webhooks,
  automations,
  storefront,
  orderStatus,
  automationsPoll,
  myOrders,
  metrics,
];

/** Every function of the list as a handler, by name (the local gateway, the tests). */
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
  return serveFunctions(functions, { bus, onError, auth, env, resolve });
}
