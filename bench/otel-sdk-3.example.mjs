/**
 * The BENCH_TRACED_HANDLERS module that measured OpenTelemetry JS 3.x (docs/performance.md,
 * Tracing): the bench's SDK set-up (otel-sdk.ts) written for 3.x. Not run by the bench: 3.x
 * needs Node >= 22.15 and the project uses 2.x, so copy it into a folder where
 * @opentelemetry/api, context-async-hooks and sdk-trace 3.x are installed, write this
 * checkout's path for <repo>, and run the bench with BENCH_WORKER_NODE (a Node 24) and
 * BENCH_TRACED_HANDLERS=<that copy>.
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BatchSpanProcessor, InMemorySpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from "@opentelemetry/sdk-trace";
export { handlers } from "<repo>/node_modules/.cache/feyxa-bench/noop-handlers.mjs";
class LastBatchExporter extends InMemorySpanExporter { export(spans, done) { this.reset(); super.export(spans, done); } }
const ratio = Number(process.env.BENCH_TRACE_SAMPLE ?? 1);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new TracerProvider({
  sampler: ratio < 1 ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) : undefined,
  spanProcessors: [new BatchSpanProcessor(new LastBatchExporter(), { maxQueueSize: 1_000_000 })],
}));
