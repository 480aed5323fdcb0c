/**
 * Drains due events in bounded batches until nothing is due or the time budget is
 * spent: what an Edge Function can do in its few seconds, leaving the rest to the
 * next call. Used by retry-failed-events and by process-event's drain wake-up.
 */
import type { Bus } from "../core/bus.ts";
import type { EventStatus } from "../core/types.ts";

export interface DrainSummary {
  claimed: number;
  batches: number;
  duration_ms: number;
  by_status: Partial<Record<EventStatus, number>>;
}

export async function drainWithin(bus: Bus, budgetMs: number, batchSize: number): Promise<DrainSummary> {
  const startedAt = performance.now();
  const summary: DrainSummary = { claimed: 0, batches: 0, duration_ms: 0, by_status: {} };
  while (performance.now() - startedAt < budgetMs) {
    const outcomes = await bus.drainOnce(batchSize);
    if (outcomes.length === 0) break;
    summary.batches++;
    summary.claimed += outcomes.length;
    for (const o of outcomes) summary.by_status[o.status] = (summary.by_status[o.status] ?? 0) + 1;
  }
  summary.duration_ms = Math.round(performance.now() - startedAt);
  return summary;
}
