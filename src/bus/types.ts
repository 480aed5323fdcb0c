/**
 * The vocabulary of Feyxa Engine, defined once.
 *
 * - **Event**: a fact that happened to an aggregate (`order.created` for order 42),
 *   stored in `events_log` by `emit_event`, in the same transaction as the business write.
 * - **Handler**: a named function (`engine.handler`, e.g. `fintech.create_escrow`) that
 *   reacts to an event. Handlers must be idempotent: the bus delivers at least once.
 * - **Subscription**: a row of `event_subscriptions` routing an event-type pattern
 *   (`order.created`, `order.*`, `*`) to a handler name: a route a handler declares (`on`,
 *   written there by syncRoutes), or one an operator adds (a remote handler).
 * - **Attempt**: one pass of a worker over an event, running every handler that has not
 *   yet succeeded, each after the handlers it declares `after`. Each handler run of an
 *   attempt leaves one row in `event_handlers_log`.
 * - **Lease**: while a worker runs an attempt it holds the event until `locked_until`,
 *   renewing it as it goes; a lease that runs out means the worker vanished.
 * - **Dead letter**: an event whose retries are exhausted, or that a handler refused
 *   for good (`NonRetriableError`). Status `dead`: kept and visible, never retried by itself.
 * - **Discarded**: an event an operator set aside for good (`discardEvent`): terminal, never run.
 *
 * The statuses (of an event, of a handler run) are listed in ./vocabulary.ts.
 */
import type { Sql, TransactionSql } from "postgres";
import type { EventStatus, HandlerRunStatus } from "./vocabulary.ts";

export type { Sql, TransactionSql };
/** The pool, or a transaction of it: emitting and claiming can join the caller's transaction. */
export type Queryable = Sql | TransactionSql;

/** The statuses of an event and of a handler run: lists written once, in ./vocabulary.ts. */
export type { EventStatus, HandlerRunStatus };

/** An event as a handler sees it. */
export interface BusEvent<P = Record<string, unknown>> {
  id: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  payload: P;
  idempotencyKey: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  retryCount: number;
  maxRetries: number;
  createdAt: Date;
  /** The event whose handler emitted this one; null when it was emitted outside a handler. */
  causationId: string | null;
  /** The first event of its story: its own id for a root (src/bus/story-sql.ts). */
  correlationId: string;
}

/** An event a worker holds, with the handlers that already succeeded in earlier attempts. */
export interface ClaimedEvent extends BusEvent {
  succeededHandlers: string[];
  /** The emitter's W3C trace context, stored with the event (src/bus/telemetry/tracing.ts); null when none. */
  traceParent?: string | null;
}

export interface HandlerContext {
  /**
   * The database, for handlers that write (in their own transactions). What is emitted
   * through it, from TypeScript (`bus.emit(event, ctx.sql)`) or by a trigger its writes
   * fire, is recorded as caused by this event, in its story (src/bus/story-sql.ts).
   */
  sql: Sql;
  /** The name this run is logged under (the subscription's handler_name). */
  handlerName: string;
  /** `event_id:handler_name`: stable across retries, so side effects can dedupe on it. */
  idempotencyKey: string;
  /** Aborted when the handler's timeout passes; pass it to fetch() and friends. */
  signal: AbortSignal;
}

export type HandlerFn<P = Record<string, unknown>> = (event: BusEvent<P>, ctx: HandlerContext) => Promise<void>;

export interface Handler<P = Record<string, unknown>> {
  /** `engine.handler`, the name subscriptions route to. */
  name: string;
  run: HandlerFn<P>;
  /** Overrides the dispatcher's default handler timeout. */
  timeoutMs?: number;
  /**
   * The event patterns it reacts to (`order.created`, `order.*`, `*`): its routes, declared
   * once, here; syncRoutes (src/bus/route-sync.ts) writes them into event_subscriptions.
   * Absent: its routes are data (a remote handler's subscription, automations' triggers).
   */
  on?: readonly string[];
  /**
   * Handlers of the same event that must have succeeded before it runs (src/bus/steps.ts);
   * those not routed to the event at hand are ignored. Synced with its routes.
   */
  after?: readonly string[];
  /**
   * The rate limit it takes a token of before each run (a key of feyxa.rate_limits,
   * configure_rate_limit). Unset: its own name, if such a limit exists; none otherwise.
   */
  rateLimit?: string;
}

/** One handler's run in an attempt, as written to event_handlers_log. */
export interface HandlerRun {
  handler_name: string;
  status: HandlerRunStatus;
  duration_ms: number;
  error_message?: string;
  /** false: the event goes straight to dead (NonRetriableError). */
  retriable?: boolean;
  /** ISO time before which the next attempt must not start (RetryAfterError). */
  retry_at?: string;
}

/** Where a handler run's description goes once it has ended (src/bus/run-attempt.ts). */
export type RunEnded = (run: HandlerRun) => void;
/** Where an error goes that fails the whole attempt (a rate limit's token could not be read). */
export type AttemptFailed = (error: unknown) => void;

export interface AttemptResult {
  event_id: string;
  attempt: number;
  handlers: HandlerRun[];
}

/** Where an event stands after an attempt; leaseHeld false means another worker took it back. */
export interface AttemptOutcome {
  eventId: string;
  status: EventStatus;
  leaseHeld: boolean;
  handlers: HandlerRun[];
}

/** A new event, as process-event and emit() accept it. */
export interface NewEvent {
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id?: string | null;
  payload?: Record<string, unknown>;
  idempotency_key?: string | null;
  /** Deliver no earlier than this time (ISO 8601 or a Date); pending and "scheduled" until then. */
  deliver_at?: string | Date | null;
  /** Or: deliver no earlier than this many seconds from now (0 to one year). Not with deliver_at. */
  delay?: number | null;
  /** Seconds of head start in the claim, 0 to 1000 (default: the event type's, else 0). */
  priority?: number | null;
  /** Handle one at a time, in emit order, with the other events of this key (default: type:aggregate for an ordered type). */
  ordering_key?: string | null;
  /**
   * The event that caused this one, for an emit made on its behalf outside its handler (an
   * HTTP emit); inside a handler the bus sets it. Its correlation, unless given, is the cause's.
   */
  causation_id?: string | null;
  /** The first event of this one's story; default: the cause's story, or none (a root). */
  correlation_id?: string | null;
}
