/**
 * The bench's no-op handlers, loaded into a dispatcher that has an OpenTelemetry SDK
 * registered (issue 16's cost rows, systems/feyxa-traced.ts; the SDK's set-up: otel-sdk.ts).
 */
import "./otel-sdk.ts";

export { handlers } from "./noop-handlers.ts";
