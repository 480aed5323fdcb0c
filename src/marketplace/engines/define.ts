/**
 * How engine handlers are written: `onEvent(name, types, run, { after })` declares the event
 * types it reacts to (its routes, synchronised into event_subscriptions: src/bus/route-sync.ts)
 * and the handlers of the same event it runs after (src/bus/steps.ts), and gives it its
 * payload already checked against the catalog. A payload that does not match is a
 * NonRetriableError: no retry will make a malformed event well-formed.
 */
import { type BusEvent, defineHandler, type Handler, type HandlerContext, NonRetriableError, type OutboundPolicy } from "../../bus/index.ts";
import type { EmailProvider } from "../services/email/provider.ts";
import { eventCatalog, type EventType, isCatalogued, type PayloadOf } from "./catalog.ts";

/** What the engines' handlers may be given by the process that runs them. */
export interface EngineDependencies {
  /** Where emails go; unset: the email outbox table only. */
  email?: EmailProvider;
  /** Where store owners' URLs may be called (src/bus/outbound.ts); unset: https to public addresses only. */
  outbound?: OutboundPolicy;
}

/**
 * What an engine's file exports: handlers, or handlers made from the dependencies (one
 * that sends email needs the provider). Each export of an engine file is one of these.
 */
export type EngineExport = Handler | ((deps: EngineDependencies) => Handler);

export function onEvent<T extends EventType>(
  name: string,
  types: readonly T[],
  run: (event: BusEvent<PayloadOf<T>>, ctx: HandlerContext) => Promise<void>,
  options: { timeoutMs?: number; after?: readonly string[] } = {},
): Handler {
  return defineHandler(name, async (event, ctx) => {
    if (!isCatalogued(event.type) || !(types as readonly string[]).includes(event.type)) {
      throw new NonRetriableError(`${name} does not handle ${event.type}; check its subscriptions`);
    }
    const parsed = eventCatalog[event.type].safeParse(event.payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new NonRetriableError(`payload.${issue.path.join(".")}: ${issue.message}`);
    }
    await run({ ...event, payload: parsed.data as PayloadOf<T> }, ctx);
  }, { ...options, on: types });
}

/** The order an event is about: the aggregate itself for order.*, payload.order_id for payment.* and delivery.*. */
export function orderIdOf(event: BusEvent): string | undefined {
  if (event.aggregateType === "order") return event.aggregateId;
  const orderId = (event.payload as { order_id?: unknown }).order_id;
  return typeof orderId === "string" ? orderId : undefined;
}
