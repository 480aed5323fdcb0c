/**
 * The bus's HTTP side, one of the entries declared in ../exports.json ("./functions"): the
 * bus's own functions (process-event, retry-failed-events, event-monitor, webhooks, metrics),
 * the pipeline an application defines its functions with, the gateway that serves them at
 * /functions/v1/<name>, who the caller is and how to run statements as them (under RLS),
 * and the answers of event-monitor, whose schemas the monitor page takes its types from.
 * Web-standard only, as the whole bus: a runtime adapter (src/local, supabase/functions)
 * turns a FetchHandler into a server.
 */
export {
  defineFunction,
  type Env,
  type FunctionDefinition,
  type FunctionDeps,
  type RequestContext,
  route,
  type Route as FunctionRoute,
  serveFunction,
  serveFunctions,
} from "./pipeline.ts";
export { createGateway } from "./gateway.ts";
export { BODY_DEADLINE_MS, errorResponse, type FetchHandler, json, requireMethod, withErrors } from "../http.ts";
export { withCors } from "../cors.ts";
export { type AuthConfig, authConfigFromEnv, type Caller, type Claims, identifyCaller, requireServer } from "../auth.ts";
export { type AuthSource, userOf } from "./caller.ts";
export { asCaller, type CallerSql } from "./as-caller.ts";
export { createProcessEvent, processEventFunction, type ProcessEventOptions, type ProcessEventRules } from "./process-event.ts";
export { DRAIN_DEFAULTS, type DrainSummary } from "./drain.ts";
export { createRetryFailedEvents, retryFailedEvents, type RetryFailedEventsOptions } from "./retry-failed-events.ts";
export { createEventMonitor, eventMonitor, type EventMonitorOptions } from "./event-monitor.ts";
export { type MonitorAnswers, monitorAnswers, type Wire } from "./monitor/answers.ts";
export { createWebhooks, webhooks, type WebhooksOptions } from "./webhooks.ts";
export { metrics } from "./metrics.ts";
