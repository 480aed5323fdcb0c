/**
 * An OpenTelemetry SDK registered as an operator's process would have it, for the bench's
 * traced rows (issue 16): sdk-trace-base's provider with its spans exported in memory through
 * a BatchSpanProcessor, and AsyncLocalStorage as the context manager, as NodeSDK sets them up
 * by default. Imported for its effect, before anything that takes a tracer: by the traced
 * dispatchers' handlers (traced-handlers.ts) and by the traced pg-boss workers.
 *
 * - The batch queue is large enough that no span is dropped (the default 2,048 would drop
 *   most of a drain's and flatter the figure); batches are the default 512 spans.
 * - The exporter keeps each batch only until the next one, as a network exporter lets go of
 *   what it has sent: sdk-trace-base's InMemorySpanExporter keeps every span until reset, and
 *   a heap of tens of thousands of finished spans costs the collector more than making them
 *   did (docs/performance.md).
 * - BENCH_TRACE_SAMPLE: the share of traces recorded (default 1, every one: the SDK's
 *   default sampler); below 1, ParentBased(TraceIdRatioBased), what OTEL_TRACES_SAMPLER=
 *   parentbased_traceidratio sets up.
 *
 * BENCH_TRACE_MODE (bench/diagnose-trace.ts): sdk (the default, as above), off (nothing
 * registered), als (the context manager alone, never entered), als-on (the context manager
 * alone, entered once: AsyncLocalStorage's hooks on), sdk-nocm (the SDK without a context manager).
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, ParentBasedSampler, type ReadableSpan, TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";

/** An in-memory exporter that holds the last batch it was given. */
class LastBatchExporter extends InMemorySpanExporter {
  override export(spans: ReadableSpan[], done: Parameters<InMemorySpanExporter["export"]>[1]): void {
    this.reset();
    super.export(spans, done);
  }
}

const mode = process.env.BENCH_TRACE_MODE ?? "sdk";
const ratio = Number(process.env.BENCH_TRACE_SAMPLE ?? 1);
if (mode === "sdk" || mode === "als" || mode === "als-on") context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
if (mode === "als-on") context.with(context.active(), () => {});
if (mode === "sdk" || mode === "sdk-nocm") {
  const processor = new BatchSpanProcessor(new LastBatchExporter(), { maxQueueSize: 1_000_000 });
  const sampler = ratio < 1 ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) : undefined;
  trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler, spanProcessors: [processor] }));
}
