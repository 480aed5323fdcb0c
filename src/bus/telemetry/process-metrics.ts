/**
 * The metrics only a running process knows: its dispatcher's events in flight and how long
 * its claims take (Bus.processMetrics, fed by the Dispatcher), which the metrics function adds
 * to the database's where this process claims (the local gateway); a cumulative histogram
 * kept in a few numbers, no allocation per claim.
 */
import { histogramFamily, type MetricFamily } from "./prometheus.ts";

export const CLAIM_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export class ProcessMetrics {
  readonly #counts = new Array<number>(CLAIM_BOUNDS.length + 1).fill(0);
  #sum = 0;
  /** Claims timed so far: none, and this process runs no dispatcher (a metrics function's isolate). */
  claims = 0;

  claimed(durationMs: number): void {
    const seconds = durationMs / 1000;
    let i = 0;
    while (i < CLAIM_BOUNDS.length && seconds > CLAIM_BOUNDS[i]) i++;
    this.#counts[i]++;
    this.#sum += seconds;
    this.claims++;
  }

  /** The families of this process: its worker's id, and how many events it is running now. */
  families(workerId: string, inFlight: number): MetricFamily[] {
    const counts = new Map<number, number>();
    [...CLAIM_BOUNDS, Infinity].forEach((le, i) => counts.set(le, this.#counts[i]));
    return [
      {
        name: "feyxa_dispatcher_in_flight", help: "Events this process is running now (claimed, not yet recorded).", type: "gauge",
        samples: [{ name: "feyxa_dispatcher_in_flight", labels: { worker: workerId }, value: inFlight }],
      },
      histogramFamily("feyxa_claim_duration_seconds", "How long this process's claim statements took (claim_events).", CLAIM_BOUNDS,
        [{ labels: { worker: workerId }, counts, sum: this.#sum }]),
    ];
  }
}
