/**
 * The bus's statuses and kinds, each list written once: frozen arrays, with the union types
 * derived from them. The database's CHECK constraints hold the same lists
 * (tests/bus/vocabulary.test.ts compares them); the monitor's API schemas, its page and every
 * query that names a set of statuses take them from here, never from a copy.
 *
 * This module imports nothing, so that a browser page may load it as it is (the
 * "./vocabulary" entry of src/bus/exports.json); the bus's front door re-exports it.
 */

/**
 * Where an event stands (events_log.status): `pending → processing → completed`, or
 * `→ failed` (retried at next_retry_at) `→ … → dead` (parked for an operator); an
 * operator may `discard` a pending, failed or dead event, or `cancel` a pending one.
 */
export const EVENT_STATUSES = Object.freeze(["pending", "processing", "completed", "failed", "dead", "discarded", "cancelled"] as const);
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Emitted and not yet finished: what a chart counts as in flight. */
export const IN_FLIGHT_STATUSES = Object.freeze(["pending", "processing"] as const satisfies readonly EventStatus[]);
/** Failed at least once and not finished: the failures view, and what an error fingerprint is of. */
export const FAILING_STATUSES = Object.freeze(["failed", "dead"] as const satisfies readonly EventStatus[]);
/** The statuses whose events have left event_queue for good (every other status is in it). */
export const OFF_QUEUE_STATUSES = Object.freeze(["completed", "discarded", "cancelled"] as const satisfies readonly EventStatus[]);
/** Where an event stays unless an operator moves it: no attempt comes by itself (dead waits in the queue, parked). */
export const SETTLED_STATUSES = Object.freeze([...OFF_QUEUE_STATUSES, "dead"] as const satisfies readonly EventStatus[]);

/**
 * What each operator verb (src/bus/operator.ts) may move an event from: its transition
 * function answers `changed: false` or refuses (55000) for any other status.
 */
export const OPERATOR_ACTIONS = Object.freeze({
  retry: FAILING_STATUSES,
  redrive: Object.freeze(["dead"] as const),
  replay: Object.freeze(["completed"] as const),
  discard: Object.freeze(["pending", ...FAILING_STATUSES] as const),
  cancel: Object.freeze(["pending"] as const),
} satisfies Partial<Record<AuditedAction, readonly EventStatus[]>>);
export type OperatorAction = keyof typeof OPERATOR_ACTIONS;
/** Whether an operator verb applies to an event in this status. */
export const actsOn = (action: OperatorAction, status: string): boolean => (OPERATOR_ACTIONS[action] as readonly string[]).includes(status);

/** What the audit trail records (feyxa.monitor_actions.kind): each operator verb, a bulk one's batch, a route paused or resumed. */
export const AUDITED_ACTIONS = Object.freeze([
  "retry", "redrive", "replay", "discard", "cancel", "bulk_retry", "bulk_redrive", "bulk_discard", "pause_route", "resume_route",
] as const);
export type AuditedAction = (typeof AUDITED_ACTIONS)[number];

/**
 * A handler run's outcome (event_handlers_log.status): `skipped` it had succeeded in an
 * earlier attempt; `waiting` a prerequisite (`after`) failed in this attempt, so it did not
 * run (it will after that one succeeds); `blocked` a prerequisite refused the event, so it
 * never runs for it; `deferred` its route is paused or its rate limit had no token, so it
 * runs in a later attempt.
 */
export const HANDLER_RUN_STATUSES = Object.freeze(["success", "failed", "skipped", "waiting", "blocked", "deferred"] as const);
export type HandlerRunStatus = (typeof HANDLER_RUN_STATUSES)[number];
/** The runs in which the handler did not run: left out of durations and failure rates. */
export const IDLE_RUN_STATUSES = Object.freeze(["skipped", "waiting", "blocked", "deferred"] as const satisfies readonly HandlerRunStatus[]);

/**
 * Why an open event waits (feyxa.waiting_reason, supabase/schemas/bus/flow-control.sql):
 * `retrying` failed, due again at its next try; `held` behind an earlier event of its
 * ordering line; `paused` a route it owes is paused, until resumed; `due` claimable now;
 * `scheduled` not before its delivery time; `deferred` a rate limit's wait.
 */
export const WAITING_REASONS = Object.freeze(["retrying", "held", "paused", "due", "scheduled", "deferred"] as const);
export type WaitingReason = (typeof WAITING_REASONS)[number];

/** Where a route sends its events (event_subscriptions.target_kind): a handler in the process, an Edge Function, a URL. */
export const TARGET_KINDS = Object.freeze(["local", "function", "url"] as const);
export type TargetKind = (typeof TARGET_KINDS)[number];

/** What an alert rule watches (feyxa.alert_rules.kind). */
export const ALERT_KINDS = Object.freeze(["dead_letters", "lag", "failure_rate", "endpoint_failing"] as const);
export type AlertKind = (typeof ALERT_KINDS)[number];
/** The kinds that watch one route (they name its handler; no event type, no tenant). */
export const ROUTE_ALERT_KINDS = Object.freeze(["failure_rate", "endpoint_failing"] as const satisfies readonly AlertKind[]);

/** What an alert notice says (feyxa.alert_notices.kind), and the suffix of the bus's `alert.<kind>` event. */
export const ALERT_NOTICE_KINDS = Object.freeze(["firing", "repeat", "resolved", "disabled"] as const);
export type AlertNoticeKind = (typeof ALERT_NOTICE_KINDS)[number];
