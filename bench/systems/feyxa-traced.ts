/**
 * Ours with tracing on (issue 16's bound: the drain within 10 % of the drain without): the
 * same dispatcher and handlers as `feyxa`, in processes with an OpenTelemetry SDK registered
 * and exporting every span in memory (bench/traced-handlers.ts). Drain only.
 */
import { feyxa, startDispatchers } from "./feyxa.ts";
import type { BenchSystem } from "./system.ts";

export const feyxaTraced: BenchSystem = {
  ...feyxa,
  name: "feyxa-traced",
  drainOnly: true,
  tuning: "as feyxa, with an OpenTelemetry SDK registered in each dispatcher process (BasicTracerProvider, BatchSpanProcessor with a queue that drops nothing, InMemorySpanExporter, AsyncLocalStorage context)",
  startWorkers: startDispatchers(true),
};
