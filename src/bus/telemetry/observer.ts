/**
 * What a Bus and its Dispatcher report about themselves as they run, for logs and process
 * metrics: every hook is optional, and none is called on the hot path unless it is set (the
 * handler runs are scanned for failures only when handlerFailed is set).
 */
import type { ClaimedEvent, HandlerRun } from "../types.ts";
import { errorField, type Logger } from "./logger.ts";

export interface BusObserver {
  /** A claim statement failed (the database away, or refusing). */
  claimFailed?(error: unknown): void;
  /** The first claim that succeeded after `failures` failed ones: the database is back. */
  claimsResumed?(failures: number): void;
  /** The NOTIFY listener connected again after losing its connection (the dispatcher claims at once). */
  listenerReconnected?(): void;
  /** A handler run of an attempt failed. traceId: the attempt's, or the one stored with the event. */
  handlerFailed?(event: ClaimedEvent, run: HandlerRun, traceId: string | undefined): void;
  /** An attempt ended after its lease had passed to another worker: its results were not recorded. */
  leaseLost?(event: ClaimedEvent, traceId: string | undefined): void;
}

/** Several observers as one. */
export function observers(...list: (BusObserver | undefined)[]): BusObserver {
  const all = list.filter((o): o is BusObserver => o !== undefined);
  const hook = <K extends keyof BusObserver>(key: K): BusObserver[K] => {
    const fns = all.map((o) => o[key]).filter((f) => f !== undefined) as ((...args: unknown[]) => void)[];
    if (fns.length === 0) return undefined;
    return ((...args: unknown[]) => fns.forEach((f) => f(...args))) as BusObserver[K];
  };
  return {
    claimFailed: hook("claimFailed"),
    claimsResumed: hook("claimsResumed"),
    listenerReconnected: hook("listenerReconnected"),
    handlerFailed: hook("handlerFailed"),
    leaseLost: hook("leaseLost"),
  };
}

/** The trace id in a W3C traceparent, if it holds one. */
export const traceIdIn = (traceparent: string | null | undefined): string | undefined =>
  traceparent ? /^00-([0-9a-f]{32})-/.exec(traceparent)?.[1] : undefined;

/** The notable events of a process as log lines. */
export function loggingObserver(logger: Logger): BusObserver {
  return {
    claimFailed: (error) => logger.error("claim failed", { error: errorField(error) }),
    claimsResumed: (failures) => logger.info("claims resumed", { failed_claims: failures }),
    listenerReconnected: () => logger.warn("listener reconnected", { channel: "feyxa_events" }),
    handlerFailed: (event, run, traceId) =>
      logger.warn("handler failed", {
        event_id: event.id, event_type: event.type, handler: run.handler_name, attempt: event.attempt,
        retriable: run.retriable !== false, error: run.error_message, duration_ms: run.duration_ms, trace_id: traceId,
      }),
    leaseLost: (event, traceId) =>
      logger.warn("lease lost", { event_id: event.id, event_type: event.type, attempt: event.attempt, trace_id: traceId, note: "another worker took the event back; this attempt moved nothing" }),
  };
}
