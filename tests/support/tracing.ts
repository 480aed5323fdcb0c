/**
 * A real OpenTelemetry SDK for the tests of traces: sdk-trace-base's provider exporting to its
 * in-memory exporter, with AsyncLocalStorage as the context manager (what NodeSDK registers),
 * installed globally for the test file and removed after it.
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll } from "vitest";

export function installTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  return {
    exporter,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
  };
}

export const spanIdOf = (span: ReadableSpan) => span.spanContext().spanId;
export const traceIdOf = (span: ReadableSpan) => span.spanContext().traceId;
export const parentIdOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
