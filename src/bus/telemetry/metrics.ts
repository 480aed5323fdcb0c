/**
 * The bus's metrics as Prometheus families: one call of feyxa.read_metrics (migration
 * 20261129300001: counters folded in incrementally, gauges from the open events only), the
 * process's own (claim latency, in flight) where it claims, and a brief cache so that several
 * scrapers, or one scraping often, cost one read per ttl.
 */
import type { Sql } from "../types.ts";
import { HANDLER_RUN_STATUSES } from "../vocabulary.ts";
import { histogramFamily, type MetricFamily, type Sample } from "./prometheus.ts";

export const DURATION_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface MetricRow {
  metric: string;
  name: string;
  label: string;
  value: number;
}

export async function readMetricRows(sql: Sql, settleMs: number): Promise<MetricRow[]> {
  return await sql<MetricRow[]>`select metric, name, label, value from feyxa.read_metrics(${`${settleMs / 1000} seconds`}::interval)`;
}

const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: "gauge", samples });
const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: "counter", samples });

/** The database's rows as families, in a stable order (Grafana panels: docs/observability.md). */
export function databaseFamilies(rows: MetricRow[]): MetricFamily[] {
  const of = (metric: string) => rows.filter((r) => r.metric === metric);
  const byType = (metric: string, status?: string) =>
    of(metric).filter((r) => status === undefined || r.label === status);
  const sumByType = (metric: string, status: string): Sample[] => {
    const totals = new Map<string, number>();
    for (const r of byType(metric, status)) totals.set(r.name, (totals.get(r.name) ?? 0) + r.value);
    return [...totals].map(([type, value]) => ({ name: "", labels: { type }, value }));
  };
  const named = (name: string, samples: Sample[]) => samples.map((s) => ({ ...s, name }));

  const durations = new Map<string, { counts: Map<number, number>; sum: number }>();
  const series = (handler: string) => durations.get(handler) ?? durations.set(handler, { counts: new Map(), sum: 0 }).get(handler)!;
  for (const r of of("handler_duration_bucket")) series(r.name).counts.set(r.label === "+Inf" ? Infinity : Number(r.label), r.value);
  for (const r of of("handler_duration_sum")) series(r.name).sum = r.value;

  const oldest = new Map<string, number>();
  for (const r of of("oldest_due_age")) oldest.set(r.name, Math.max(oldest.get(r.name) ?? 0, r.value));
  const dueByType = new Map<string, number>();
  for (const r of of("queue_due")) dueByType.set(r.name, (dueByType.get(r.name) ?? 0) + r.value);
  const countedTo = of("counted_to")[0]?.value;

  return [
    gauge("feyxa_events", "Open events (not yet completed, discarded or cancelled) by type and status: pending, processing, failed (a retry scheduled), dead.",
      of("events").map((r) => ({ name: "feyxa_events", labels: { type: r.name, status: r.label }, value: r.value }))),
    gauge("feyxa_queue_due", "Events due now that no worker holds (the backlog), by type.",
      [...dueByType].map(([type, value]) => ({ name: "feyxa_queue_due", labels: { type }, value }))),
    gauge("feyxa_queue_oldest_due_age_seconds", "How long the oldest due, unclaimed event of a type has been due (the lag); absent when none is due.",
      [...oldest].map(([type, value]) => ({ name: "feyxa_queue_oldest_due_age_seconds", labels: { type }, value: Math.max(0, value) }))),
    gauge("feyxa_retries_scheduled", "Failed events waiting for their next attempt, by type.", named("feyxa_retries_scheduled", sumByType("events", "failed"))),
    gauge("feyxa_dead_letters", "Dead events (retries exhausted or refused), waiting for an operator, by type.", named("feyxa_dead_letters", sumByType("events", "dead"))),
    counter("feyxa_events_emitted_total", "Events emitted, by type.",
      of("events_emitted").map((r) => ({ name: "feyxa_events_emitted_total", labels: { type: r.name }, value: r.value }))),
    counter("feyxa_handler_runs_total", `Handler runs by handler and outcome (${HANDLER_RUN_STATUSES.join(", ")}).`,
      of("handler_runs").map((r) => ({ name: "feyxa_handler_runs_total", labels: { handler: r.name, outcome: r.label }, value: r.value }))),
    histogramFamily("feyxa_handler_duration_seconds", "How long handler runs took (those that ran: success or failed), by handler.", DURATION_BOUNDS,
      [...durations].map(([handler, d]) => ({ labels: { handler }, counts: d.counts, sum: d.sum }))),
    counter("feyxa_webhook_deliveries_total", "Outgoing webhook deliveries by handler and status class (2xx, 3xx, 4xx, 5xx; none: no answer).",
      of("webhook_deliveries").map((r) => ({ name: "feyxa_webhook_deliveries_total", labels: { handler: r.name, class: r.label }, value: r.value }))),
    ...(countedTo === undefined ? [] : [gauge("feyxa_metrics_counted_to_timestamp_seconds", "The counters include the log rows created before this time (seconds since the epoch).",
      [{ name: "feyxa_metrics_counted_to_timestamp_seconds", value: countedTo }])]),
  ];
}

/** A value computed at most once per ttl, concurrent callers sharing the computation under way. */
export class BriefCache<T> {
  #value: T | undefined;
  #at = -Infinity;
  #pending: Promise<T> | undefined;

  async get(ttlMs: number, compute: () => Promise<T>): Promise<T> {
    if (this.#value !== undefined && performance.now() - this.#at < ttlMs) return this.#value;
    this.#pending ??= compute().then((value) => {
      this.#value = value;
      this.#at = performance.now();
      return value;
    }).finally(() => (this.#pending = undefined));
    return await this.#pending;
  }
}
