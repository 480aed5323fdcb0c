/**
 * The bus's OpenTelemetry traces, on `@opentelemetry/api` alone (as pg-boss 12 does): no SDK
 * is forced on an application; with none registered every call here is a no-op. Spans:
 *
 *   feyxa.emit                   an emit made from TypeScript (PRODUCER), child of the active span
 *   <METHOD> /functions/v1/<fn>  an HTTP function's request (SERVER), child of an incoming traceparent
 *   feyxa.attempt <type>         one attempt at one event, claim to completion (CONSUMER), child of
 *                                and linked to the emitter's context stored with the event
 *   feyxa.handler <name>         each handler run of the attempt, its child
 *   webhook POST <name>          each outgoing webhook delivery (CLIENT), carrying `traceparent`
 *
 * Context crosses the database as a W3C traceparent: a transaction that emits sets
 * `feyxa.traceparent` (set_config, local to it), and the column events_log.trace_parent takes
 * it by default (supabase/schemas/bus/events.sql), so SQL that emits, triggers included, needs no
 * change; claims hand it back. An event emitted outside such a transaction (a trigger fired by
 * the Data API) starts its own trace at its first attempt.
 *
 * The hot path asks tracingOn() once per call and does nothing else when it is false: no span
 * objects, no attribute maps, no context lookups per event.
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";

export { SpanKind, SpanStatusCode } from "@opentelemetry/api";
export type { Context, Span } from "@opentelemetry/api";

export const TRACER_NAME = "feyxa-engine";

/** The api's no-op provider: what a ProxyTracerProvider delegates to until an SDK registers one. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** True when an SDK has registered a tracer provider (cheap: no allocation). */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

let cached: { provider: unknown; tracer: Tracer } | undefined;

/**
 * Feyxa's tracer from the registered provider, looked up once per provider: trace.getTracer
 * asks the SDK's provider each time, which builds a key and reads a map, once per span.
 */
export function tracer(): Tracer {
  const proxy = trace.getTracerProvider();
  const provider = proxy instanceof ProxyTracerProvider ? proxy.getDelegate() : proxy;
  if (cached?.provider !== provider) cached = { provider, tracer: provider.getTracer(TRACER_NAME) };
  return cached.tracer;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The W3C traceparent of a span, or of a context's span (the active one by default); undefined when there is no valid one. */
export function traceparentOf(of: Context | Span = context.active()): string | undefined {
  const spanContext = "spanContext" in of ? of.spanContext() : trace.getSpanContext(of);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** A context whose (remote) parent is the traceparent given; ROOT_CONTEXT when it is absent or malformed. */
export function contextOf(traceparent: string | null | undefined): Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true });
}

/** The trace id of the active span, for log lines; undefined when none. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** Records a failure on a span: the exception event and an error status. */
export function recordFailure(span: Span, error: unknown, message?: string): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? (error instanceof Error ? error.message : String(error)) });
}

/**
 * Runs fn inside a new span (active in it when a context manager is registered), ending the
 * span when fn settles and recording what it throws. Without an SDK, just runs fn.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return await fn(undefined);
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes, links: options.links }, options.parent ?? context.active());
  try {
    return await context.with(trace.setSpan(options.parent ?? context.active(), span), () => fn(span));
  } catch (error) {
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}
