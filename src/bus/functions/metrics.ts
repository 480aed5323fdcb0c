/**
 * metrics (GET): the bus's metrics in Prometheus' text format, for the server only (a
 * Prometheus scrape job sends the secret key: `authorization: Bearer sb_secret_…` or `apikey`).
 * Locally also at /metrics on the gateway. What each metric is: docs/observability.md.
 *
 * Read from the database in one call (feyxa.read_metrics: no scan of the log), cached for
 * FEYXA_METRICS_CACHE_MS; counters include rows created up to FEYXA_METRICS_SETTLE_MS ago
 * (5 s and 15 s by default: src/bus/settings.ts). A process that claims (the local
 * gateway's, beside its dispatcher) adds its own in-flight count and claim latency. The
 * health verdict (telemetry/health.ts) is read with them, as feyxa_health.
 *
 * GET /metrics/health: the health verdict for uptime checks, as JSON (status, reasons, lag,
 * workers, dead letters, throughput), 200 when healthy or degraded, 503 when down; read at
 * each request, never cached, by anything (a proxy included).
 */
import { z } from "zod";
import type { Bus } from "../bus.ts";
import { healthFamilies, healthHttpStatus, readHealth } from "../telemetry/health.ts";
import { BriefCache, databaseFamilies, readMetricRows } from "../telemetry/metrics.ts";
import { type MetricFamily, prometheusResponse } from "../telemetry/prometheus.ts";
import { busSetting } from "../settings.ts";
import { defineFunction, json, route } from "./pipeline.ts";

const caches = new WeakMap<Bus, BriefCache<MetricFamily[]>>();

export const metrics = defineFunction({
  name: "metrics",
  auth: "server",
  routes: [
    route("GET /health", {
      query: z.strictObject({}),
      handle: async ({ bus }) => {
        const health = await readHealth(bus.sql);
        return json(health, healthHttpStatus(health), { "cache-control": "no-store" });
      },
    }),
    route("GET", {
      // No parameters: one asked for is a 400 naming it, not silently ignored.
      query: z.strictObject({}),
      handle: async ({ bus, env }) => {
        const settings = env();
        const cache = caches.get(bus) ?? caches.set(bus, new BriefCache()).get(bus)!;
        const families = await cache.get(busSetting(settings, "FEYXA_METRICS_CACHE_MS"), async () => [
          ...databaseFamilies(await readMetricRows(bus.sql, busSetting(settings, "FEYXA_METRICS_SETTLE_MS"))),
          ...healthFamilies(await readHealth(bus.sql)),
        ]);
        const own = bus.processMetrics.claims > 0 ? bus.processMetrics.families(bus.workerId, bus.inFlight.size) : [];
        return prometheusResponse([...families, ...own]);
      },
    }),
  ],
});
