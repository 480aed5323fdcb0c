/**
 * Attempts as the telemetry sees them: each one's span (when an SDK is registered) from its
 * claim to its recorded outcome, and what the observer is told (failed handler runs, a lease
 * lost on the way). With neither an SDK nor an observer, `run` is called at once and nothing
 * else is allocated: the hot path of a bus without telemetry.
 */
import type { AttemptOutcome, ClaimedEvent } from "../types.ts";
import { type AttemptSpan, endAttemptSpan, startAttemptSpan } from "./attempt-spans.ts";
import { type BusObserver, traceIdIn } from "./observer.ts";
import { tracingOn } from "./tracing.ts";

/**
 * Runs a batch's attempts (to their recorded outcomes); `traced[i]` is event i's attempt span,
 * started at `claimedAt` (performance.now() when the claim was sent; now when not given).
 */
export function watchBatch(
  events: ClaimedEvent[], observer: BusObserver | undefined, claimedAt: number | undefined,
  run: (traced: AttemptSpan[] | undefined) => Promise<AttemptOutcome[]>,
): Promise<AttemptOutcome[]> {
  const spans = tracingOn() ? events.map((event) => startAttemptSpan(event, claimedAt)) : undefined;
  if (!spans && !observer) return run(undefined);
  return afterwards(run(spans), (outcomes, error) => ended(events, observer, spans, outcomes, error));
}

/**
 * One event's attempt, the same way (what the dispatcher's processEach runs per event): one
 * promise reaction on top of the attempt's, as every promise costs where a context manager is on.
 */
export function watchOne(
  event: ClaimedEvent, observer: BusObserver | undefined, claimedAt: number | undefined,
  run: (event: ClaimedEvent, traced?: AttemptSpan) => Promise<AttemptOutcome>,
): Promise<AttemptOutcome> {
  const span = tracingOn() ? startAttemptSpan(event, claimedAt) : undefined;
  if (!observer && !span) return run(event);
  const spans = span && [span];
  return afterwards(run(event, span), (outcome, error) => ended([event], observer, spans, outcome && [outcome], error));
}

/** `running`, with `end` called in its one reaction: given its value, or the error it failed with (then rethrown). */
function afterwards<T>(running: Promise<T>, end: (value: T | undefined, error?: unknown) => void): Promise<T> {
  return running.then((value) => {
    end(value);
    return value;
  }, (error: unknown) => {
    end(undefined, error);
    throw error;
  });
}

/**
 * The end of a batch's attempts: the observer told of their failures (when they have outcomes),
 * then every span ended with where its event stands, even when telling the observer threw.
 */
function ended(
  events: ClaimedEvent[], observer: BusObserver | undefined, spans: AttemptSpan[] | undefined,
  outcomes: AttemptOutcome[] | undefined, error?: unknown,
): void {
  try {
    if (observer && outcomes) events.forEach((event, i) => report(observer, event, outcomes[i], spans?.[i]));
  } finally {
    spans?.forEach((span, i) => endAttemptSpan(span, outcomes?.[i], error));
  }
}

/** Tells the observer of an attempt's failed handler runs, and of a lease lost on the way. */
function report(observer: BusObserver, event: ClaimedEvent, outcome: AttemptOutcome, span: AttemptSpan | undefined): void {
  const traceId = () => span?.span.spanContext().traceId ?? traceIdIn(event.traceParent);
  if (observer.handlerFailed) {
    for (const run of outcome.handlers) if (run.status === "failed") observer.handlerFailed(event, run, traceId());
  }
  if (!outcome.leaseHeld) observer.leaseLost?.(event, traceId());
}
