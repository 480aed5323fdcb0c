/**
 * Ours observed as an operator would (issue 16's bound: the drain within 10 % of the drain
 * without): the same dispatcher and handlers as `feyxa`, in processes with an OpenTelemetry
 * SDK registered and exporting in memory (bench/traced-handlers.ts), while a Prometheus
 * scrape reads the metrics every second (what the metrics function does, without its
 * cache, counting every row up to the scrape). Two rows: every trace recorded (the SDK's
 * default sampler), and one trace in ten (parentbased_traceidratio 0.1). Drain only.
 */
import { databaseFamilies, formatFamilies, readMetricRows } from "../../src/bus/index.ts";
import type { BenchDatabase } from "../support/server.ts";
import { feyxa, startDispatchers } from "./feyxa.ts";
import type { BenchSystem } from "./system.ts";

export const SCRAPE_INTERVAL_MS = 1_000;

/** Scrapes the metrics every SCRAPE_INTERVAL_MS until stopped; the text is made and dropped, as a scrape's would be. */
function scrapeMetrics(db: BenchDatabase): () => Promise<void> {
  let stopped = false;
  const took: number[] = [];
  const loop = (async () => {
    while (!stopped) {
      const startedAt = performance.now();
      formatFamilies(databaseFamilies(await readMetricRows(db.sql, 0)));
      took.push(performance.now() - startedAt);
      await new Promise((resolve) => setTimeout(resolve, SCRAPE_INTERVAL_MS));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    if (process.env.BENCH_VERBOSE) console.error(`bench  metrics scrapes: ${took.map((ms) => Math.round(ms)).join(", ")} ms`);
  };
}

const observed = (name: string, sample: number, sampling: string): BenchSystem => ({
  ...feyxa,
  name,
  drainOnly: true,
  tuning: `as feyxa, with an OpenTelemetry SDK registered in each dispatcher process (BasicTracerProvider, ${sampling}, BatchSpanProcessor with a queue that drops nothing, in-memory exporter, AsyncLocalStorage context), and the metrics scraped every ${SCRAPE_INTERVAL_MS / 1000} s`,
  startWorkers: startDispatchers({ sample }),
  alongside: scrapeMetrics,
});

export const feyxaTraced = observed("feyxa-traced", 1, "every trace recorded");
export const feyxaTracedSampled = observed("feyxa-traced-10%", 0.1, "one trace in ten recorded: ParentBased(TraceIdRatioBased(0.1))");
