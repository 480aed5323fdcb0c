/**
 * The bench's no-op handlers, loaded into a dispatcher that has an OpenTelemetry SDK
 * registered (issue 16's cost row, systems/feyxa-traced.ts): sdk-trace-base's provider with
 * every span sent through a SimpleSpanProcessor to its in-memory exporter, and
 * AsyncLocalStorage as the context manager, as NodeSDK would set them up. The exporter is
 * emptied as it fills, so that memory stays flat over a drain.
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";

export { handlers } from "./noop-handlers.ts";

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
setInterval(() => {
  if (exporter.getFinishedSpans().length > 10_000) exporter.reset();
}, 500).unref();
