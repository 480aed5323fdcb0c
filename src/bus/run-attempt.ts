/**
 * One attempt at one event: run every routed handler that has not succeeded yet,
 * concurrently and in isolation (one throwing or hanging never stops the others),
 * each under its own timeout (src/bus/deadlines.ts), and describe each run for
 * event_handlers_log. A handler with prerequisites (`after`, src/bus/steps.ts) starts
 * when they have succeeded; when one failed it is 'waiting', when one refused the event
 * it is 'blocked', and it does not run. A handler whose rate limit (Handler.rateLimit, or
 * its own name) exists takes a token first; with none left it does not run either: its run
 * is 'deferred', due again when a token is there (not a failure: no retry is spent). A
 * handler whose route an operator paused is 'deferred' the same way, without a time: the
 * event is parked (due at infinity) until resume_route lets it go (unpark_events,
 * supabase/schemas/bus/flow-control.sql), so a paused route costs no attempt while it lasts.
 */
import { coerceError, redactSecrets, HandlerTimeoutError, NonRetriableError, RetryAfterError } from "./errors.ts";
import { joinDeadline } from "./deadlines.ts";
import { takeRateToken } from "./bus-sql.ts";
import type { RoutedHandlers } from "./router.ts";
import { type Context, inHandlerSpan } from "./telemetry/attempt-spans.ts";
import { planSteps, type AttemptPlan } from "./steps.ts";
import { storySql } from "./story-sql.ts";
import type { AttemptFailed, AttemptResult, BusEvent, ClaimedEvent, Handler, HandlerContext, HandlerRun, RunEnded, Sql } from "./types.ts";

/**
 * A handler registered under this name runs every subscribed handler name that has no code
 * of its own in this process: the remote deliveries (src/bus/webhooks/remote-handler.ts),
 * whose targets are rows of event_subscriptions, not code. It learns the name from ctx.handlerName.
 */
export const FALLBACK_HANDLER = "*";

/** What a run logs when a subscription names a handler nobody can run. */
export const noHandlerMessage = (name: string) =>
  `no handler named "${name}" is registered in this dispatcher; deploy its code or deactivate its subscription`;

/** When an event owing a paused route is due again: when the route is resumed, not before. */
const UNTIL_RESUMED = "infinity";

export interface AttemptOptions {
  sql: Sql;
  handlers: ReadonlyMap<string, Handler>;
  defaultTimeoutMs: number;
}

/**
 * @param route the event type's routing: its handlers, what the routes make each wait for
 * (event_subscriptions.after_handlers, on top of its code's `after`), the rate limits that exist.
 * @param traced the attempt's span context when tracing is on: each handler run gets a child span.
 *
 * The runs report to a countdown, not through a promise each gathered by Promise.all: one
 * promise per attempt instead of three more per run (a batch starts hundreds of runs at once,
 * and where an OpenTelemetry context manager is on, every promise costs hook calls).
 */
export function runAttempt(event: ClaimedEvent, route: RoutedHandlers, options: AttemptOptions, traced?: Context): Promise<AttemptResult> {
  const succeeded = event.succeededHandlers;
  const { succeededHandlers: _, traceParent: __, ...busEvent } = event;
  const handlerNames = route.names;
  const start = (name: string, ended: RunEnded, failed: AttemptFailed): void => {
    if (succeeded.includes(name)) return ended({ handler_name: name, status: "skipped", duration_ms: 0 });
    if (route.paused.has(name)) {
      return ended({ handler_name: name, status: "deferred", duration_ms: 0, retry_at: UNTIL_RESUMED,
        error_message: "paused by an operator: waits until its route is resumed" });
    }
    if (traced) return inHandlerSpan(traced, busEvent, name, (inSpan, failedInSpan) => runHandler(busEvent, name, options, route.rateLimits, inSpan, failedInSpan), ended, failed);
    runHandler(busEvent, name, options, route.rateLimits, ended, failed);
  };
  const result = (runs: HandlerRun[]): AttemptResult => ({ event_id: event.id, attempt: event.attempt, handlers: runs });
  const plan = planSteps(handlerNames, options.handlers, route.after);
  if (plan) {
    const run = (name: string) => new Promise<HandlerRun>((resolve, reject) => start(name, resolve, reject));
    return Promise.all(inSteps(handlerNames, plan, run, (name) => succeeded.includes(name))).then(result);
  }
  return new Promise<AttemptResult>((resolve, reject) => {
    const runs = new Array<HandlerRun>(handlerNames.length);
    let left = handlerNames.length;
    if (left === 0) return resolve(result(runs));
    // Once rejected, the promise ignores the resolve the last run would make.
    handlerNames.forEach((name, i) => start(name, (run) => {
      runs[i] = run;
      if (--left === 0) resolve(result(runs));
    }, reject));
  });
}

/** Each handler's run, started once its prerequisites' runs have ended well. */
function inSteps(
  names: string[], plan: AttemptPlan, run: (name: string) => Promise<HandlerRun>, succeededBefore: (name: string) => boolean,
): Promise<HandlerRun>[] {
  const started = new Map<string, Promise<HandlerRun>>();
  const start = (name: string): Promise<HandlerRun> => {
    let running = started.get(name);
    if (running) return running;
    const prerequisites = plan.prerequisites.get(name) ?? [];
    if (succeededBefore(name)) {
      running = run(name); // skipped, whatever its prerequisites do now
    } else if (plan.cyclic.has(name)) {
      // Only rows of event_subscriptions can make one (code's cycles are refused at registration).
      running = Promise.resolve<HandlerRun>({ handler_name: name, status: "failed", duration_ms: 0,
        error_message: `waits, through the after of its routes, in or behind a cycle among ${[...plan.cyclic].sort().join(", ")}; fix event_subscriptions.after_handlers` });
    } else if (prerequisites.length === 0) {
      running = run(name);
    } else {
      running = Promise.all(prerequisites.map(start)).then((before): HandlerRun | Promise<HandlerRun> => {
        const refused = before.filter((r) => r.status === "blocked" || (r.status === "failed" && r.retriable === false));
        if (refused.length > 0) {
          return { handler_name: name, status: "blocked", duration_ms: 0,
            error_message: `not run: ${refused.map((r) => r.handler_name).join(", ")} ${refused.length > 1 ? "have" : "has"} refused the event` };
        }
        const pending = before.filter((r) => r.status !== "success" && r.status !== "skipped");
        if (pending.length > 0) {
          return { handler_name: name, status: "waiting", duration_ms: 0,
            error_message: `waits for ${pending.map((r) => r.handler_name).join(", ")}, not done in this attempt; runs after ${pending.length > 1 ? "them" : "it"} in a later one` };
        }
        return run(name);
      });
    }
    started.set(name, running);
    return running;
  };
  return names.map(start);
}

/** One handler's run: its rate limit's token first when it has one, then the handler within its timeout. */
function runHandler(event: BusEvent, name: string, options: AttemptOptions, rateLimits: ReadonlySet<string>, ended: RunEnded, failed: AttemptFailed): void {
  const handler = options.handlers.get(name) ?? options.handlers.get(FALLBACK_HANDLER);
  if (!handler) {
    // Retriable on purpose: the subscription exists, so the code is probably on its way.
    return ended({ handler_name: name, status: "failed", duration_ms: 0, error_message: noHandlerMessage(name) });
  }
  const limit = handler.name === FALLBACK_HANDLER ? name : (handler.rateLimit ?? name);
  if (!rateLimits.has(limit)) return runWithinTimeout(event, name, handler, options, ended);
  takeRateToken(options.sql, limit).then((waitMs) => waitMs > 0
    ? ended({ handler_name: name, status: "deferred", duration_ms: 0, retry_at: new Date(Date.now() + waitMs).toISOString(),
        error_message: `rate limited (${limit}): no token for ${waitMs} ms; runs then` })
    : runWithinTimeout(event, name, handler, options, ended), failed);
}

/**
 * What a handler run is given. A class, not an object literal: a literal with a `signal`
 * getter (and the closure behind it) was about 600 bytes of garbage per run, a class
 * instance is about 60 (npm run bench's drain makes four runs an event).
 */
class RunContext implements HandlerContext {
  #controller: AbortController | undefined;
  #timeoutError: HandlerTimeoutError | undefined;
  #sql: Sql | undefined;

  constructor(readonly pool: Sql, readonly event: BusEvent, readonly handlerName: string, readonly idempotencyKey: string) {}

  /** The pool in this event's story (src/bus/story-sql.ts), made when first read: most runs of a no-op handler never read it. */
  get sql(): Sql {
    return this.#sql ??= storySql(this.pool, { causationId: this.event.id, handlerName: this.handlerName, correlationId: this.event.correlationId });
  }

  /**
   * Made when first read (creating an AbortController costs more than a no-op handler's whole
   * run); one read after the timeout is aborted already.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#timeoutError) this.#controller.abort(this.#timeoutError);
    }
    return this.#controller.signal;
  }

  /** The run's timeout passed (the dispatcher's call, not the handler's). */
  timedOut(error: HandlerTimeoutError): void {
    this.#timeoutError = error;
    this.#controller?.abort(error);
  }
}

/** Runs the handler until it settles or its timeout (a shared Deadline) passes, whichever is first; tells `ended` once. */
function runWithinTimeout(event: BusEvent, name: string, handler: Handler, options: AttemptOptions, ended: RunEnded): void {
  const timeoutMs = handler.timeoutMs ?? options.defaultTimeoutMs;
  const ctx = new RunContext(options.sql, event, name, `${event.id}:${name}`);
  const startedAt = performance.now();
  let settled = false;
  const settle = (failed: boolean, thrown?: unknown) => {
    if (settled) return;
    settled = true;
    deadline.leave(expire);
    ended(failed
      ? { ...describeFailure(coerceError(thrown)), handler_name: name, duration_ms: elapsed(startedAt) }
      : { handler_name: name, status: "success", duration_ms: elapsed(startedAt) });
  };
  const expire = () => {
    const error = new HandlerTimeoutError(name, timeoutMs);
    ctx.timedOut(error);
    settle(true, error);
  };
  const deadline = joinDeadline(timeoutMs, expire);
  let running: unknown;
  try {
    running = handler.run(event, ctx);
  } catch (thrown) {
    return settle(true, thrown); // a synchronous throw is a failure like any other
  }
  Promise.resolve(running).then(() => settle(false), (thrown: unknown) => settle(true, thrown));
}

function describeFailure(error: Error): Omit<HandlerRun, "handler_name" | "duration_ms"> {
  // error_message is read by operators and shown by the monitor: never a credential.
  const message = redactSecrets(`${error.name === "Error" ? "" : `${error.name}: `}${error.message}`).slice(0, 2000);
  if (error instanceof NonRetriableError) return { status: "failed", error_message: message, retriable: false };
  if (error instanceof RetryAfterError) return { status: "failed", error_message: message, retry_at: error.retryAt.toISOString() };
  return { status: "failed", error_message: message };
}

const elapsed = (startedAt: number) => Math.round(performance.now() - startedAt);
