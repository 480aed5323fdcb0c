/**
 * The bench's no-op handlers, loaded into a dispatcher that has an OpenTelemetry SDK
 * registered (issue 16's cost row, systems/feyxa-traced.ts): sdk-trace-base's provider with
 * every span exported to its in-memory exporter through a BatchSpanProcessor, and
 * AsyncLocalStorage as the context manager, as NodeSDK sets them up by default. The batch
 * queue is made large enough that no span is dropped (the default 2,048 would drop most of a
 * drain's and flatter the figure); the exporter is emptied as it fills, so that memory stays
 * flat. (With a SimpleSpanProcessor, which exports each span as it ends, the drain ran at
 * about half the untraced one's speed: docs/performance.md.)
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";

export { handlers } from "./noop-handlers.ts";

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const processor = new BatchSpanProcessor(exporter, { maxQueueSize: 200_000, maxExportBatchSize: 4_096, scheduledDelayMillis: 200 });
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [processor] }));
setInterval(() => {
  if (exporter.getFinishedSpans().length > 10_000) exporter.reset();
}, 500).unref();
