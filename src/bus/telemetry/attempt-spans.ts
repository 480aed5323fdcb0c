/**
 * The spans of an attempt: one per attempt at one event, from its claim to its completion,
 * and one per handler run as its child. Called by Bus and runAttempt only when tracingOn().
 *
 * The attempt's parent is the emitter's context stored with the event (events_log.trace_parent),
 * so one order is one trace from the request that placed it to the last handler run, however
 * many processes and retries later; the attempt is also linked to it (and to the span of
 * whoever claimed it, a process-event request), as messaging traces link a message's creation.
 * An event without a stored context (emitted by SQL outside a traced transaction) starts a
 * trace of its own, under the claimer's span when there is one.
 */
import { type Attributes, type Context, context, type Link, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

export type { Context };
import type { AttemptFailed, AttemptOutcome, BusEvent, ClaimedEvent, HandlerRun, RunEnded } from "../types.ts";
import { contextOf, tracer } from "./tracing.ts";

export interface AttemptSpan {
  span: Span;
  /** The context handler spans start in. */
  context: Context;
  /** False when the sampler left the attempt out: its handler runs then get no span of their own. */
  recording: boolean;
}

/**
 * What a sampler is shown of an attempt, at the span's start: the messaging conventions'
 * sampling-relevant attributes (system, operation type, destination: the event type) and the
 * tenant, for per-store sampling. The rest (attemptDetails) is set only on a span that records:
 * most attempts are sampled out where traffic is heavy, and theirs were built for nothing.
 */
function samplingAttributes(event: BusEvent): Attributes {
  const attributes: Attributes = {
    "messaging.system": "feyxa",
    "messaging.operation.type": "process",
    "messaging.destination.name": event.type,
  };
  if (event.tenantId) attributes["feyxa.tenant.id"] = event.tenantId;
  return attributes;
}

/** The rest of what every recorded attempt span carries (handler spans carry only the event id and attempt). */
function attemptDetails(event: BusEvent): Attributes {
  return {
    "messaging.message.id": event.id,
    "feyxa.event.id": event.id,
    "feyxa.event.type": event.type,
    "feyxa.aggregate.type": event.aggregateType,
    "feyxa.aggregate.id": event.aggregateId,
    "feyxa.attempt": event.attempt,
  };
}

export function startAttemptSpan(event: ClaimedEvent, claimedAt?: number): AttemptSpan {
  const claimer = context.active();
  const emitter = event.traceParent ? contextOf(event.traceParent) : undefined;
  const emitterSpan = emitter && trace.getSpanContext(emitter);
  let links: Link[] | undefined;
  if (emitterSpan) {
    links = [{ context: emitterSpan, attributes: { "feyxa.link": "emitter" } }];
    const claimerSpan = trace.getSpanContext(claimer);
    if (claimerSpan && trace.isSpanContextValid(claimerSpan)) links.push({ context: claimerSpan, attributes: { "feyxa.link": "claimer" } });
  }
  const parent = emitterSpan ? emitter : claimer;
  const span = tracer().startSpan(`feyxa.attempt ${event.type}`, {
    kind: SpanKind.CONSUMER,
    attributes: samplingAttributes(event),
    links,
    startTime: claimedAt,
  }, parent);
  const recording = span.isRecording();
  if (recording) span.setAttributes(attemptDetails(event));
  return { span, context: trace.setSpan(parent, span), recording };
}

/**
 * Runs an attempt's handlers in its trace: each in a child span of its own (inHandlerSpan, given
 * the context) when the attempt's span is recorded; when the sampler left it out, all of them
 * in its context at once, so that what they emit carries the decision on (a sampled-out
 * traceparent), with no per-handler span or context switch, whose spans would be dropped anyway.
 */
export function inAttemptScope<T>(attempt: AttemptSpan | undefined, run: (handlerParent: Context | undefined) => Promise<T>): Promise<T> {
  if (!attempt) return run(undefined);
  if (attempt.recording) return run(attempt.context);
  return context.with(attempt.context, () => run(undefined));
}

/** Ends an attempt's span with where its event stands (completed, failed, dead, or processing when the lease was lost). */
export function endAttemptSpan(attempt: AttemptSpan, outcome: AttemptOutcome | undefined, error?: unknown): void {
  const { span } = attempt;
  if (outcome) {
    span.setAttribute("feyxa.outcome", outcome.leaseHeld ? outcome.status : "lease_lost");
    if (outcome.status === "failed" || outcome.status === "dead") span.setStatus({ code: SpanStatusCode.ERROR, message: `event ${outcome.status}` });
  }
  if (error !== undefined) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/**
 * Runs one handler inside its span, a child of the attempt's (the active context while its code
 * runs), and records its outcome when it reports to `ended`; an error that fails the attempt
 * ends the span too. Callbacks rather than a promise: this runs once per handler run, and under
 * Node 20's AsyncLocalStorage every promise costs hook calls (bench/diagnose-trace.ts).
 */
export function inHandlerSpan(
  parent: Context,
  event: BusEvent,
  handlerName: string,
  run: (ended: RunEnded, failed: AttemptFailed) => void,
  ended: RunEnded,
  failed: AttemptFailed,
): void {
  // The event's other attributes are on the attempt's span, this one's parent; not repeated
  // on every handler run (npm run bench's traced drain: 0.60x -> 0.64x the untraced one).
  const span = tracer().startSpan(`feyxa.handler ${handlerName}`, {
    kind: SpanKind.INTERNAL,
    attributes: { "feyxa.event.id": event.id, "feyxa.handler": handlerName, "feyxa.attempt": event.attempt },
  }, parent);
  // The SDK's span processors run inside span.end(), and a throw there must reach the attempt
  // (as the error it fails with), not escape from a timer or a promise reaction unheard.
  const endedInSpan: RunEnded = (result) => {
    let recorded: HandlerRun;
    try {
      recorded = endHandlerSpan(span, result);
    } catch (error) {
      return failed(error);
    }
    ended(recorded);
  };
  const failedInSpan: AttemptFailed = (error) => {
    try {
      span.end();
    } catch {
      // The attempt fails with its own error, the one worth reporting.
    }
    failed(error);
  };
  try {
    context.with(trace.setSpan(parent, span), run, undefined, endedInSpan, failedInSpan);
  } catch (error) {
    span.end();
    throw error;
  }
}

/** Ends a handler run's span with its outcome, an error when it failed. */
function endHandlerSpan(span: Span, result: HandlerRun): HandlerRun {
  span.setAttribute("feyxa.outcome", result.status);
  if (result.status === "failed") {
    span.recordException({ name: result.retriable === false ? "NonRetriableError" : "HandlerError", message: result.error_message ?? "failed" });
    span.setStatus({ code: SpanStatusCode.ERROR, message: result.error_message });
  }
  span.end();
  return result;
}
