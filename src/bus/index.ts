/**
 * The bus's public surface: what an application on the bus imports. The bus knows no
 * application: the marketplace (src/marketplace) is one, built on this API only.
 *
 * The front door of the entries declared in ./exports.json (tests/imports.test.ts lets no
 * file outside the bus import any other module of it): this one, the bus in a process;
 * ./functions/index.ts, its HTTP functions and what serving them takes; ./testing.ts, the
 * in-memory bus of handler tests; ./vocabulary.ts, the statuses, which a browser page may load.
 */
export { Bus, type BusOptions } from "./bus.ts";
export type { EmitReport } from "./bus-sql.ts";
export { ALERT_EVENT_TYPES, type AlertNoticePayload, busEventSchemas, type BusEventType } from "./bus-events.ts";
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
export { coerceError, HttpError, NonRetriableError, PG, RetryAfterError } from "./errors.ts";
export { parseWith } from "./http.ts";
export { eventTypeSchema } from "./schemas.ts";
export { patternMatches } from "./router.ts";
export {
  type OutboundPolicy,
  outboundFetch,
  outboundPolicy,
  type Resolver,
  saveOutboundAllow,
  STRICT_OUTBOUND,
} from "./outbound.ts";
export { remoteDelivery, type RemoteDeliveryOptions } from "./webhooks/remote-handler.ts";
export { type Appended, appendToStream, readStream, type StreamEvent } from "./history/stream.ts";
export { rebuild, type Rebuilt, type Reducer } from "./history/rebuild.ts";
export { type DatabaseBounds, databaseBounds, databaseBoundsOf, openPool, type PoolShape } from "./database-options.ts";
export {
  checked, type Declarations, defineSettings, type Env, EVERYWHERE, type IgnoredSetting, ignoredSettings, isSet, type Kind, millis, oneOf, onOff, parseSettings,
  type Place, PLACES, port, readSetting, type Setting, type Settings, SettingsError, text, url, whole,
} from "./define-settings.ts";
export { BUS_SETTINGS, busSetting, type BusSettingName, type BusSettings, busSettings } from "./settings.ts";
export { BUS_SCHEDULES, cronSchedule, type Schedule } from "./schedules.ts";
export { type BusRuntime, dispatcherSettings, type OpenedBus, openBus } from "./open-bus.ts";
export { errorField, jsonLogger, type Logger, type LogLevel, logLevelFrom } from "./telemetry/logger.ts";
export { type BusObserver, loggingObserver } from "./telemetry/observer.ts";
export { databaseFamilies, readMetricRows } from "./telemetry/metrics.ts";
export { formatFamilies, type MetricFamily, prometheusResponse } from "./telemetry/prometheus.ts";
export * from "./vocabulary.ts";
export type * from "./types.ts";
