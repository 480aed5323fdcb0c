/**
 * The bus's public surface: what an application on the bus imports. The bus knows no
 * application: the marketplace (src/marketplace) is one, built on this API only.
 */
export { Bus, type BusOptions } from "./bus.ts";
export { Dispatcher, type DispatcherOptions } from "./dispatcher.ts";
export { contextForPart, defineHandler, type HandlerOptions } from "./define-handler.ts";
export { declaredRoutes, type Route, type RouteSyncResult, syncRoutes, syncRoutesOnce } from "./route-sync.ts";
export { configureEventType, configureTenantFairness, type EventTypeFlow, setTenantLimit } from "./flow.ts";
export {
  cancelEvent,
  discardEvent,
  type OperatorResult,
  redriveDead,
  type RedriveOptions,
  replayEvent,
  type ReplayOptions,
  retryEvent,
} from "./operator.ts";
export { HttpError, NonRetriableError, RetryAfterError } from "./errors.ts";
export { createGateway } from "./functions/gateway.ts";
export {
  defineFunction,
  type FunctionDefinition,
  type FunctionDeps,
  route,
  type Route as FunctionRoute,
  serveFunction,
  serveFunctions,
} from "./functions/pipeline.ts";
export { createProcessEvent, type ProcessEventOptions } from "./functions/process-event.ts";
export { createRetryFailedEvents, type RetryFailedEventsOptions } from "./functions/retry-failed-events.ts";
export { createEventMonitor, type EventMonitorOptions } from "./functions/event-monitor.ts";
export { createWebhooks, type WebhooksOptions } from "./functions/webhooks.ts";
export type * from "./types.ts";
