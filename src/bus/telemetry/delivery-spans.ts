/**
 * A CLIENT span around each outgoing webhook delivery (src/bus/webhooks/remote-handler.ts),
 * the child of the handler run's span; the request carries its W3C `traceparent`.
 */
import { SpanKind } from "@opentelemetry/api";
import { inSpan, type Span } from "./tracing.ts";

export { traceparentOf } from "./tracing.ts";
export type { Span };

export function inDeliverySpan<T>(handlerName: string, targetKind: string, send: (span: Span | undefined) => Promise<T>): Promise<T> {
  return inSpan(`webhook POST ${handlerName}`, {
    kind: SpanKind.CLIENT,
    attributes: { "http.request.method": "POST", "feyxa.handler": handlerName, "feyxa.webhook.target_kind": targetKind },
  }, send);
}
