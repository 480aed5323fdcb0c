/**
 * The bus as one object: emit events, claim due ones, run an attempt over a batch and
 * record it. The dispatcher loop, process-event and retry-failed-events are all thin
 * callers of this class, so an event takes the same path whoever picks it up:
 *
 *   emit -> wake-up -> claim -> route -> run handlers -> complete_attempts (log + move)
 */
import * as db from "./bus-sql.ts";
import { type RoutedHandlers, Router } from "./router.ts";
import { CompletionBatcher, type Moved } from "./completion-batcher.ts";
import { type AttemptOptions, runAttempt } from "./run-attempt.ts";
import { withRetries } from "./database-retries.ts";
import { Heartbeats, type Whereabouts } from "./heartbeats.ts";
import { BUS_SETTINGS } from "./settings.ts";
import { checkSteps } from "./steps.ts";
import { inGivenStory } from "./story-sql.ts";
import { type AttemptSpan, inAttemptScope } from "./telemetry/attempt-spans.ts";
import { carryingTrace, tracedEmit } from "./telemetry/emit-spans.ts";
import type { BusObserver } from "./telemetry/observer.ts";
import { ProcessMetrics } from "./telemetry/process-metrics.ts";
import { tracingOn } from "./telemetry/tracing.ts";
import { watchBatch, watchOne } from "./telemetry/watched-attempts.ts";
import type { AttemptOutcome, AttemptResult, ClaimedEvent, Handler, NewEvent, Queryable, Sql } from "./types.ts";

export interface BusOptions {
  sql: Sql;
  /** Every handler this process can run; subscriptions name them. */
  handlers: Handler[];
  /** Prefix of this worker's id in locked_by, e.g. "dispatcher" or "process-event". */
  workerName?: string;
  /** How long a claim holds an event unless renewed; renewed every third of it. */
  leaseMs?: number;
  /**
   * Where lease renewals and heartbeats go (default: `sql`). Give them a connection of their own: on the
   * shared pool a renewal waits behind this worker's own handler queries, and a pool kept
   * busy for a whole lease lets a live worker's lease lapse, so another worker runs its
   * events again.
   */
  leaseSql?: Sql;
  /** A handler's maximum run time unless it sets its own. */
  handlerTimeoutMs?: number;
  /** How long routing may be cached. */
  subscriptionTtlMs?: number;
  /** Where to report trouble that has no caller to answer (a failed lease renewal). */
  onError?: (error: unknown) => void;
  /** Told of handler failures, leases lost, and (through the Dispatcher) claims: logs, process metrics. */
  observer?: BusObserver;
  /** Where this process runs, as its heartbeats say (default: a Node process, no host name). */
  where?: Whereabouts;
}

export class Bus {
  readonly sql: Sql;
  readonly router: Router;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly handlerTimeoutMs: number;
  readonly observer: BusObserver | undefined;
  /** This process's own metrics (claim latency; in-flight is inFlight.size), served by the metrics function. */
  readonly processMetrics = new ProcessMetrics();
  /** This worker's reports that it is alive (the Dispatcher's, the invocations'): heartbeats.ts. */
  readonly heartbeats: Heartbeats;
  readonly #handlers: Map<string, Handler>;
  readonly #inFlight = new Set<string>();
  readonly #onError: (error: unknown) => void;
  readonly #leaseSql: Sql;
  readonly #attemptOptions: AttemptOptions;
  readonly #recorder: CompletionBatcher;
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: BusOptions) {
    this.sql = options.sql;
    this.leaseMs = options.leaseMs ?? BUS_SETTINGS.FEYXA_LEASE_MS.default;
    this.#leaseSql = options.leaseSql ?? options.sql;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? BUS_SETTINGS.FEYXA_HANDLER_TIMEOUT_MS.default;
    this.router = new Router(options.sql, options.subscriptionTtlMs);
    this.workerId = `${options.workerName ?? "worker"}:${crypto.randomUUID()}`;
    this.#onError = options.onError ?? ((error) => console.error("feyxa:", error));
    this.observer = options.observer;
    // On the lease renewals' connection where there is one: a pool kept busy by handlers must not silence the worker.
    this.heartbeats = new Heartbeats(this.#leaseSql, this.workerId, options.where ?? { runtime: "node" }, this.#onError);
    this.#handlers = new Map();
    for (const handler of options.handlers) {
      if (this.#handlers.has(handler.name)) throw new Error(`two handlers are named ${handler.name}`);
      this.#handlers.set(handler.name, handler);
    }
    checkSteps(options.handlers);
    this.#attemptOptions = { sql: this.sql, handlers: this.#handlers, defaultTimeoutMs: this.handlerTimeoutMs };
    // The handlers ran: their results are worth a few tries through a database blip,
    // or the lease would expire and the handlers would run again.
    this.#recorder = new CompletionBatcher(
      (results) => withRetries(() => db.completeAttempts(this.sql, this.workerId, results), this.leaseMs / 2),
    );
  }

  /** Ids of the events this worker is running now. */
  get inFlight(): ReadonlySet<string> {
    return this.#inFlight;
  }

  emit(event: NewEvent, sql: Queryable = this.sql): Promise<db.EmitReport> {
    return inGivenStory(sql, [event], (tx) => tracingOn() ? tracedEmit([event], tx, (t) => db.emitEvent(t, event)) : db.emitEvent(tx, event));
  }

  emitMany(events: NewEvent[], sql: Queryable = this.sql): Promise<db.EmitReport[]> {
    return inGivenStory(sql, events, (tx) => tracingOn() ? tracedEmit(events, tx, (t) => db.emitEvents(t, events)) : db.emitEvents(tx, events));
  }

  /**
   * Runs statements that emit through SQL (a function such as checkout(), a trigger) so that
   * their events carry the active trace context: with a span active, fn runs in a transaction
   * that sets it (feyxa.traceparent); without one (no SDK, no span), fn gets `sql` as it is.
   */
  withTraceContext<T>(fn: (sql: Queryable) => Promise<T>, sql: Queryable = this.sql): Promise<T> {
    return tracingOn() ? carryingTrace(sql, fn) : fn(sql);
  }

  claimDue(limit: number): Promise<ClaimedEvent[]> {
    return db.claimEvents(this.sql, this.workerId, limit, this.leaseMs);
  }

  claimOne(eventId: string, sql: Queryable = this.sql): Promise<ClaimedEvent | undefined> {
    return db.claimEvent(sql, eventId, this.workerId, this.leaseMs);
  }

  /**
   * Runs one attempt of each claimed event, renewing their leases meanwhile, and records
   * all of them together (one statement, unless a write was already on its way).
   * @param claimedAt when their claim was sent (performance.now()): where their attempt spans
   * start, so that a trace shows the claim inside the attempt; by default, now.
   */
  async process(events: ClaimedEvent[], claimedAt?: number): Promise<AttemptOutcome[]> {
    if (events.length === 0) return [];
    this.#hold(events);
    try {
      return await watchBatch(events, this.observer, claimedAt, async (traced) => {
        const results = await Promise.all(events.map((event, i) => this.#attempt(event, traced?.[i])));
        return this.#outcomes(results, await this.#recorder.record(results));
      });
    } finally {
      this.#letGo(events);
    }
  }

  /**
   * Like process(), but each event is recorded as soon as its own handlers are done
   * (batched with whatever else finished meanwhile), so one slow handler does not hold
   * back the rest of its batch. What the dispatcher uses.
   */
  async processEach(events: ClaimedEvent[], claimedAt?: number): Promise<AttemptOutcome[]> {
    this.#recorder.enoughForAnother = Math.max(events.length, 1);
    this.#hold(events);
    return await Promise.all(events.map((event) => watchOne(event, this.observer, claimedAt, this.#recordEach)));
  }

  /** One event's attempt, recorded as soon as it is done (processEach). */
  readonly #recordEach = async (event: ClaimedEvent, traced?: AttemptSpan): Promise<AttemptOutcome> => {
    try {
      const result = await this.#attempt(event, traced);
      return this.#outcomes([result], await this.#recorder.record([result]))[0];
    } finally {
      this.#letGo([event]);
    }
  };

  #attempt(event: ClaimedEvent, traced?: AttemptSpan): Promise<AttemptResult> {
    const run = (route: RoutedHandlers) => inAttemptScope(traced, (handlerParent) => runAttempt(event, route, this.#attemptOptions, handlerParent));
    const route = this.router.cachedRoute(event.type);
    return route ? run(route) : this.router.routeFor(event.type).then(run);
  }

  #outcomes(results: AttemptResult[], moved: Moved): AttemptOutcome[] {
    return results.map((r) => {
      const m = moved.get(r.event_id);
      return { eventId: r.event_id, status: m?.status ?? "processing", leaseHeld: m?.leaseHeld ?? false, handlers: r.handlers };
    });
  }

  /** Marks events as running here; one heartbeat renews the leases of all of them every third of the lease. */
  #hold(events: ClaimedEvent[]): void {
    for (const e of events) this.#inFlight.add(e.id);
    this.#heartbeat ??= setInterval(() => {
      if (this.#inFlight.size === 0) return;
      db.renewLeases(this.#leaseSql, this.workerId, [...this.#inFlight], this.leaseMs).catch(this.#onError);
    }, this.leaseMs / 3);
  }

  #letGo(events: ClaimedEvent[]): void {
    for (const e of events) this.#inFlight.delete(e.id);
    if (this.#inFlight.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  /** Claims up to `limit` due events and processes them; returns what happened (empty when nothing was due). */
  async drainOnce(limit: number): Promise<AttemptOutcome[]> {
    const claimedAt = performance.now();
    return await this.process(await this.claimDue(limit), claimedAt);
  }

  /** Gives back events this worker holds but will not finish (shutting down). */
  release(eventIds: string[]): Promise<number> {
    return eventIds.length ? db.releaseEvents(this.sql, this.workerId, eventIds) : Promise.resolve(0);
  }
}
