/**
 * A SERVER span around each HTTP function's request (the pipeline's outermost layer), the
 * child of the caller's W3C `traceparent` when it sends one, so that an emit made while
 * answering (process-event, checkout) stores this request's context with its events.
 */
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { FetchHandler } from "../http.ts";
import { contextOf, tracer, tracingOn } from "./tracing.ts";

export function withServerSpan(functionName: string, handler: FetchHandler): FetchHandler {
  return async (request) => {
    if (!tracingOn()) return await handler(request);
    const incoming = request.headers.get("traceparent");
    const parent = incoming ? contextOf(incoming) : context.active();
    const url = new URL(request.url);
    const span = tracer().startSpan(`${request.method} /functions/v1/${functionName}`, {
      kind: SpanKind.SERVER,
      attributes: {
        "http.request.method": request.method,
        "http.route": `/functions/v1/${functionName}`,
        "url.path": url.pathname,
        "feyxa.function": functionName,
      },
    }, parent);
    try {
      const response = await context.with(trace.setSpan(parent, span), () => handler(request));
      span.setAttribute("http.response.status_code", response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
      return response;
    } catch (error) {
      if (error instanceof Error) span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  };
}
