/**
 * What the event-monitor function answers, route by route: the one definition of its answers.
 * The reads and actions are typed by these schemas as they build an answer (a timestamp is a
 * Date there), and the monitor page takes its types from the same schemas as the JSON it
 * receives (a timestamp an ISO string: `Wire`), so a field renamed on either side breaks
 * `npm run typecheck`. tests/bus/functions/event-monitor-answers.test.ts parses real answers
 * with them, strictly: a field the API adds or drops fails there.
 */
import { z } from "zod";
import {
  ALERT_KINDS, ALERT_NOTICE_KINDS, AUDITED_ACTIONS, EVENT_STATUSES, HANDLER_RUN_STATUSES, OPERATOR_ACTIONS, type OperatorAction, TARGET_KINDS,
  WAITING_REASONS,
} from "../../vocabulary.ts";
import { HEALTH_REASONS, HEALTH_STATUSES } from "../../telemetry/health.ts";
import { BULK_KINDS, type BulkKind, WINDOWS } from "./schemas.ts";

/** A timestamp: a Date as the function builds the answer, its ISO string in the JSON. */
const timestamp = z.codec(z.iso.datetime({ offset: true }), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});
const uuid = z.uuid();
const status = z.enum(EVENT_STATUSES);
const count = z.number().int().nonnegative();
const windowName = z.enum(Object.keys(WINDOWS) as [keyof typeof WINDOWS]);

/** An answer as a route builds it, before JSON. */
export type Built<S extends z.ZodType> = z.output<S>;
/** An answer as it travels and the page reads it: JSON, timestamps as ISO strings. */
export type Wire<S extends z.ZodType> = z.input<S>;

/** GET /me: who the caller is, whether they may act, the tenants they may filter by (labels may be null: the bus's hook has none). */
export const meAnswer = z.strictObject({
  user_id: uuid,
  email: z.string().nullable(),
  is_admin: z.boolean(),
  tenants: z.array(z.strictObject({ id: uuid, name: z.string().nullable(), slug: z.string().nullable() })),
});

/** A row of the event list. */
export const eventRow = z.strictObject({
  id: uuid, event_type: z.string(), aggregate_type: z.string(), aggregate_id: uuid, tenant_id: uuid.nullable(), status,
  attempt: count, retry_count: count, max_retries: count, next_retry_at: timestamp.nullable(), error_message: z.string().nullable(),
  idempotency_key: z.string(), created_at: timestamp, processed_at: timestamp.nullable(),
  /** Why it waits, while it does (feyxa.waiting_reason); null when it does not. */
  waiting: z.enum(WAITING_REASONS).nullable(),
});

/** GET /events: a page, newest first; next_cursor null on the last. */
export const eventPage = z.strictObject({ events: z.array(eventRow), next_cursor: z.string().nullable() });

/** One handler's run in one attempt. */
export const handlerRun = z.strictObject({
  attempt: count, handler_name: z.string(), status: z.enum(HANDLER_RUN_STATUSES), duration_ms: count,
  error_message: z.string().nullable(), created_at: timestamp,
});

/** GET /events/<id>: one event in full. */
export const eventDetail = z.strictObject({
  event: eventRow.extend({ payload: z.unknown(), tenant_name: z.string().nullable(), first_claimed_at: timestamp.nullable() }),
  attempts: z.array(z.strictObject({ attempt: count, handlers: z.array(handlerRun) })),
  routed_handlers: z.array(z.string()),
  owed_handlers: z.array(z.string()),
  /** Handler -> the routed handlers it runs after (steps), for those that wait for some. */
  route_steps: z.record(z.string(), z.array(z.string())),
  /** Flow control: scheduled for later, priority, the ordering line it waits in. */
  flow: z.strictObject({
    scheduled: z.boolean(), deliver_at: timestamp.nullable(), priority: count, ordering_key: z.string().nullable(),
    ordering_seq: count.nullable(), held: z.boolean(), held_behind: uuid.nullable(), waiting_behind: count,
  }),
  /**
   * Why it waits, in full: until when (a retry, a delivery time, a rate limit's wait), the
   * event it is held behind, the paused routes it owes (who paused them and why), each
   * failed handler's failures against what its policy allows. Null when it does not wait.
   */
  waiting: z.strictObject({
    reason: z.enum(WAITING_REASONS),
    until: timestamp.nullable(),
    blocker: z.strictObject({ id: uuid, event_type: z.string(), status, error_message: z.string().nullable() }).nullable(),
    paused_routes: z.array(z.strictObject({
      event_pattern: z.string(), handler_name: z.string(), paused_at: timestamp, paused_by: z.string().nullable(), reason: z.string().nullable(),
    })),
    deferred_by: z.array(z.strictObject({ handler_name: z.string(), message: z.string().nullable() })),
    retries: z.array(z.strictObject({ handler_name: z.string(), failures: count, max_attempts: count, route_policy: z.boolean() })),
  }).nullable(),
  /** The aggregate's event-sourced stream, when it has one. */
  timeline: z.array(z.strictObject({ version: count, event_id: uuid, event_type: z.string(), status, created_at: timestamp })),
  /** Each remote handler run's HTTP answer (status_code null: none came). */
  deliveries: z.array(z.strictObject({
    handler_name: z.string(), attempt: count, status_code: z.number().int().nullable(), response_excerpt: z.string().nullable(),
    duration_ms: count, created_at: timestamp,
  })),
  /** The aggregate's other events, newest first. */
  related: z.array(z.strictObject({ id: uuid, event_type: z.string(), status, created_at: timestamp })),
  timings: z.strictObject({
    created_at: timestamp, first_claimed_at: timestamp.nullable(), processed_at: timestamp.nullable(),
    wait_ms: z.number().nullable(), total_ms: z.number().nullable(),
  }),
});

/** Where the events of a type, or of a time bucket, stand now. */
const outcomes = { completed: count, failed: count, dead: count, in_flight: count };

/** GET /stats: the numbers over a window. */
export const statsAnswer = z.strictObject({
  window: windowName,
  bucket_seconds: count,
  success_rate: z.array(z.strictObject({ event_type: z.string(), total: count, ...outcomes, rate: z.number().nullable() })),
  throughput: z.array(z.strictObject({ bucket: timestamp, ...outcomes })),
  retry_queue: z.strictObject({
    failed: count, pending: count, processing: count, dead: count,
    /** The failed events by next try. */
    next: z.array(z.strictObject({
      id: uuid, event_type: z.string(), tenant_id: uuid.nullable(), retry_count: count, max_retries: count,
      next_retry_at: timestamp, error_message: z.string().nullable(),
      /** Its real policy (feyxa.monitor_retry_budget): the failing handler nearest its limit, its attempts used and allowed. */
      attempts_used: count, attempts_allowed: count,
      /** That handler, and the route whose max_attempts applies (null: the bus's settings, the event's max_retries). */
      policy_handler: z.string().nullable(), policy_route: z.string().nullable(),
    })),
  }),
  dead_letters: z.array(z.strictObject({ event_type: z.string(), error: z.string().nullable(), count, last_at: timestamp.nullable() })),
  handlers: z.array(z.strictObject({ handler_name: z.string(), runs: count, failures: count, p50_ms: count, p95_ms: count })),
});

/** GET /failures: failed and dead events grouped by their error's fingerprint (null: no error message). */
export const failuresAnswer = z.strictObject({
  groups: z.array(z.strictObject({
    fingerprint: z.string().nullable(), event_types: z.array(z.string()), failed: count, dead: count,
    first_at: timestamp, last_at: timestamp, sample_error: z.string().nullable(), sample_event_id: uuid,
  })),
});

const bulkKind = z.enum(Object.keys(BULK_KINDS) as [BulkKind, ...BulkKind[]]);

/** GET /bulk: how many events an action over the filters would start on (capped: at least that many). */
export const bulkPreviewAnswer = z.strictObject({ kind: bulkKind, count, capped: z.boolean(), statuses: z.array(status), batch: count.optional() });

/** POST /bulk: one batch (call again with next_cursor while it is not null). */
export const bulkResult = z.strictObject({
  action_id: uuid,
  kind: z.enum(AUDITED_ACTIONS).extract(["bulk_retry", "bulk_redrive", "bulk_discard"] satisfies `bulk_${BulkKind}`[]),
  changed: z.boolean(), duplicate: z.boolean(), moved: count, unchanged: count, skipped: count, next_cursor: z.string().nullable(),
});

/**
 * GET /routes: every route with its own numbers over the window: its handler's runs of the
 * events whose type its pattern matches (a route that matched none has none).
 */
export const routesAnswer = z.strictObject({
  window: windowName,
  routes: z.array(z.strictObject({
    event_pattern: z.string(), handler_name: z.string(), target_kind: z.enum(TARGET_KINDS), target: z.string().nullable(),
    managed_by: z.string().nullable(), is_active: z.boolean(), paused_at: timestamp.nullable(), retired_at: timestamp.nullable(),
    runs: count, failures: count, deferred: count, p50_ms: count.nullable(), p95_ms: count.nullable(),
    last_error: z.string().nullable(), last_error_at: timestamp.nullable(),
    /** The handler's other routes whose patterns match a type this one matches: a run of such an event counts under each. */
    shared_with: z.array(z.string()),
  })),
});

/** GET /routes/waiting: what pausing the route would hold up, its open events that still owe its handler (capped: at least). */
export const routeWaitingAnswer = z.strictObject({ waiting: count, capped: z.boolean() });

/** POST /routes: the route paused or resumed (changed false: it already was); a pause counts the events it left waiting. */
export const routeActionResult = z.strictObject({
  action_id: uuid, kind: z.enum(AUDITED_ACTIONS).extract(["pause_route", "resume_route"]), changed: z.boolean(), duplicate: z.boolean(),
  paused: z.boolean(), waiting: count.optional(),
});

/** POST /actions: what an operator verb answers (src/bus/operator.ts's OperatorResult). */
export const actionResult = z.strictObject({
  action_id: uuid,
  kind: z.enum(Object.keys(OPERATOR_ACTIONS) as [OperatorAction, ...OperatorAction[]]),
  changed: z.boolean(),
  duplicate: z.boolean(),
  status: status.optional(),
  previous_status: status.optional(),
  /** redrive: how many dead events moved, how many still match. */
  redriven: count.optional(),
  remaining: count.optional(),
  /** replay: the handlers the next attempt runs. */
  will_run: z.array(z.string()).optional(),
});

/** GET /actions: the audit trail, newest first; a bulk batch counts the events it acted on. */
export const actionsAnswer = z.strictObject({
  actions: z.array(z.strictObject({
    id: uuid, actor_id: uuid.nullable(), actor_email: z.string().nullable(), kind: z.enum(AUDITED_ACTIONS),
    target: z.record(z.string(), z.unknown()), result: z.record(z.string(), z.unknown()), created_at: timestamp, events: count,
  })),
});

/** A rule with its state. */
export const alertRule = z.strictObject({
  id: uuid, name: z.string(), kind: z.enum(ALERT_KINDS), tenant_id: uuid.nullable(), event_type: z.string().nullable(),
  handler_name: z.string().nullable(), threshold: z.number(), window_minutes: z.number(), repeat_minutes: z.number(),
  is_active: z.boolean(), created_at: timestamp,
  // Its state: firing since when, its last value, when it last notified or resolved.
  firing: z.boolean(), value: z.number().nullable(), since: timestamp.nullable(), notified_at: timestamp.nullable(),
  resolved_at: timestamp.nullable(),
});

/** GET /alerts: the rules with their state, the 50 latest notices. */
export const alertsAnswer = z.strictObject({
  rules: z.array(alertRule),
  notices: z.array(z.strictObject({
    /** A bigint: a string in JSON. */
    id: z.string().regex(/^[0-9]+$/),
    rule_id: uuid, tenant_id: uuid.nullable(), kind: z.enum(ALERT_NOTICE_KINDS), value: z.number().nullable(), message: z.string(),
    created_at: timestamp,
  })),
});

/** POST /alerts: the rule created, paused, resumed or deleted. */
export const alertChange = z.strictObject({
  rule: alertRule.pick({ id: true, name: true, kind: true, is_active: true }),
});

/**
 * GET /story?q=: every event a term leads to and the events of their stories, oldest first,
 * with each one's cause (the event and the handler whose run emitted it), and every handler
 * run and webhook delivery of them; `roots` are the stories' first events.
 */
export const storyAnswer = z.strictObject({
  term: z.string(),
  roots: z.array(uuid),
  events: z.array(z.strictObject({
    id: uuid, event_type: z.string(), aggregate_type: z.string(), aggregate_id: uuid, tenant_id: uuid.nullable(), status,
    attempt: count, error_message: z.string().nullable(), created_at: timestamp, processed_at: timestamp.nullable(),
    causation_id: uuid.nullable(), causation_handler: z.string().nullable(), correlation_id: uuid.nullable(),
    waiting: z.enum(WAITING_REASONS).nullable(),
  })),
  runs: z.array(handlerRun.extend({ event_id: uuid })),
  deliveries: z.array(z.strictObject({
    event_id: uuid, handler_name: z.string(), attempt: count, status_code: z.number().int().nullable(), response_excerpt: z.string().nullable(),
    duration_ms: count, created_at: timestamp,
  })),
  /** More events than shown (STORY_LIMIT): the newest are left out. */
  truncated: z.boolean(),
});

/** GET /health: the bus's health verdict (src/bus/telemetry/health.ts), as /metrics/health answers it. */
export const healthAnswer = z.strictObject({
  status: z.enum(HEALTH_STATUSES),
  reasons: z.array(z.strictObject({
    code: z.enum(HEALTH_REASONS), status: z.enum(HEALTH_STATUSES).exclude(["healthy"]), message: z.string(),
    value: z.number().nullable(), threshold: z.number().nullable(), handlers: z.array(z.string()).optional(),
    last_worker: z.strictObject({ role: z.string(), runtime: z.enum(["node", "edge"]), host: z.string().nullable(), stopped: z.boolean() }).optional(),
  })),
  checked_at: timestamp,
  lag_seconds: z.number().nullable(),
  workers: z.strictObject({
    live: count,
    last_seen_at: timestamp.nullable(),
    recent: z.array(z.strictObject({
      worker: z.string(), role: z.string(), runtime: z.enum(["node", "edge"]), host: z.string().nullable(),
      started_at: timestamp, last_seen_at: timestamp, in_flight: count, stopped_at: timestamp.nullable(), live: z.boolean(),
    })),
  }),
  dead_letters: z.strictObject({ window_seconds: z.number(), current: count, previous: count }),
  throughput: z.strictObject({ per_minute: z.array(count), to: timestamp, trend: z.enum(["rising", "falling", "steady"]) }),
  thresholds: z.strictObject({ silence_seconds: z.number(), max_lag_seconds: z.number(), dead_window_seconds: z.number() }),
});

/** Every answer, by name: what the page's types are read from (web/monitor/src/types.ts). */
export const monitorAnswers = {
  me: meAnswer,
  events: eventPage,
  event: eventDetail,
  story: storyAnswer,
  stats: statsAnswer,
  failures: failuresAnswer,
  bulkPreview: bulkPreviewAnswer,
  bulk: bulkResult,
  routes: routesAnswer,
  routeWaiting: routeWaitingAnswer,
  setRoute: routeActionResult,
  actions: actionsAnswer,
  act: actionResult,
  alerts: alertsAnswer,
  changeAlert: alertChange,
  health: healthAnswer,
} as const;
/** The answers as the page receives them (JSON), by name. */
export type MonitorAnswers = { [K in keyof typeof monitorAnswers]: Wire<(typeof monitorAnswers)[K]> };
