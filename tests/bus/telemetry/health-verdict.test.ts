/**
 * The health verdict's rules, on facts written by hand (src/bus/telemetry/health.ts): each
 * reason alone, the worst of several as the status, the throughput trend.
 */
import { describe, expect, it } from "vitest";
import { type HealthFacts, healthFamilies, healthHttpStatus, healthVerdict, trendOf } from "../../../src/bus/telemetry/health.ts";

const NOW = new Date("2026-12-08T10:00:00Z");
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);
const worker = (seenAgo: number, over: Partial<HealthFacts["workers"][number]> = {}): HealthFacts["workers"][number] => ({
  worker: "dispatcher:1", role: "dispatcher", runtime: "node", host: "h", started_at: ago(600).toISOString(), last_seen: ago(seenAgo).toISOString(),
  in_flight: 3, stopped_at: null, live: seenAgo < 90, ...over,
});
const facts = (over: Partial<HealthFacts> = {}): HealthFacts => ({
  checked_at: NOW, lag_seconds: null, workers_live: 1, last_seen: ago(2),
  workers: [worker(2)],
  dead_current: 0, dead_previous: 0, failing_endpoints: [], runs_per_minute: Array(60).fill("10"), counted_to: ago(20),
  silence_seconds: 90, max_lag_seconds: 60, dead_window_seconds: 900, ...over,
});
const codes = (f: HealthFacts) => healthVerdict(f).reasons.map((r) => r.code);

describe("the health verdict", () => {
  it("healthy: a worker seen, nothing due or due briefly, no dead letter rising, no endpoint failing", () => {
    for (const lag of [null, 0.5, 60]) {
      const health = healthVerdict(facts({ lag_seconds: lag }));
      expect(health.status).toBe("healthy");
      expect(health.reasons).toEqual([]);
      expect(healthHttpStatus(health)).toBe(200);
    }
  });

  it("down: events due and no worker or invocation seen within the bound, saying for how long and which was last", () => {
    const health = healthVerdict(facts({ lag_seconds: 12, workers_live: 0, last_seen: ago(125), workers: [worker(125)] }));
    expect(health.status).toBe("down");
    expect(health.reasons).toEqual([{ code: "no_worker", status: "down", value: 125, threshold: 90,
      last_worker: { role: "dispatcher", runtime: "node", host: "h", stopped: false },
      message: "no worker or invocation seen for 125 s (bound 90 s): the last was dispatcher (node on h), while events are due (the oldest for 12 s)" }]);
    expect(healthHttpStatus(health)).toBe(503);
    // none kept at all (an hour's silence, or never)
    expect(healthVerdict(facts({ lag_seconds: 3, workers_live: 0, last_seen: null, workers: [] })).reasons).toEqual([{
      code: "no_worker", status: "down", value: null, threshold: 90,
      message: "no worker or invocation seen in the last hour, while events are due (the oldest for 3.0 s)" }]);
  });

  it("down: events due and the last worker said it stopped (a graceful stop, not a silence)", () => {
    const stopped = worker(4, { role: "retry-failed-events", runtime: "edge", host: null, stopped_at: ago(4).toISOString(), live: false });
    const health = healthVerdict(facts({ lag_seconds: 2, workers_live: 0, last_seen: ago(4), workers: [stopped, worker(300)] }));
    expect(health.status).toBe("down");
    expect(health.reasons).toMatchObject([{ code: "no_worker", value: 4, last_worker: { role: "retry-failed-events", runtime: "edge", host: null, stopped: true },
      message: "no worker or invocation running: the last, retry-failed-events (edge), stopped 4.0 s ago, while events are due (the oldest for 2.0 s)" }]);
    expect(health.workers.recent[0].stopped_at).toEqual(ago(4));
  });

  it("no worker and nothing due is not down: an idle bus with nothing to do", () => {
    expect(healthVerdict(facts({ lag_seconds: null, workers_live: 0, last_seen: ago(3000) })).status).toBe("healthy");
  });

  it("degraded: the lag over its bound", () => {
    const health = healthVerdict(facts({ lag_seconds: 61 }));
    expect(health.status).toBe("degraded");
    expect(health.reasons).toMatchObject([{ code: "lag", status: "degraded", value: 61, threshold: 60, message: "the oldest due event has waited 61 s (bound 60 s)" }]);
  });

  it("degraded: more dead letters in the window than in the one before; as many or fewer is not rising", () => {
    expect(healthVerdict(facts({ dead_current: 3, dead_previous: 1 })).reasons).toMatchObject([{
      code: "dead_letters_rising", value: 3, threshold: 1, message: "3 events went dead in the last 15 min, 1 in the 15 min before" }]);
    expect(codes(facts({ dead_current: 1, dead_previous: 0 }))).toEqual(["dead_letters_rising"]);
    expect(codes(facts({ dead_current: 4, dead_previous: 4 }))).toEqual([]);
    expect(codes(facts({ dead_current: 0, dead_previous: 7 }))).toEqual([]);
  });

  it("degraded: an endpoint the alert rules find failing, named", () => {
    expect(healthVerdict(facts({ failing_endpoints: ["crm.orders", "n8n.sync"] })).reasons).toEqual([{
      code: "endpoint_failing", status: "degraded", value: 2, threshold: null, handlers: ["crm.orders", "n8n.sync"],
      message: "endpoint failing: crm.orders, n8n.sync" }]);
  });

  it("every reason that holds is listed; the worst is the status", () => {
    const health = healthVerdict(facts({ lag_seconds: 400, workers_live: 0, last_seen: ago(400), dead_current: 2, failing_endpoints: ["crm.orders"] }));
    expect(health.status).toBe("down");
    expect(health.reasons.map((r) => [r.code, r.status])).toEqual([
      ["no_worker", "down"], ["lag", "degraded"], ["dead_letters_rising", "degraded"], ["endpoint_failing", "degraded"]]);
  });

  it("carries the lag, the workers, the dead letters, the per-minute runs and the bounds", () => {
    const health = healthVerdict(facts({ lag_seconds: 4.5, dead_current: 2, dead_previous: 5 }));
    expect(health).toMatchObject({
      lag_seconds: 4.5, checked_at: NOW,
      workers: { live: 1, last_seen_at: ago(2), recent: [{ worker: "dispatcher:1", runtime: "node", host: "h", started_at: ago(600), last_seen_at: ago(2), in_flight: 3, live: true }] },
      dead_letters: { window_seconds: 900, current: 2, previous: 5 },
      throughput: { to: ago(20), trend: "steady" },
      thresholds: { silence_seconds: 90, max_lag_seconds: 60, dead_window_seconds: 900 },
    });
    expect(health.throughput.per_minute).toEqual(Array(60).fill(10));
  });

  it("the trend: the last 15 minutes against the 15 before, a fifth or more either way, never on noise of less than one run", () => {
    const series = (before: number, recent: number) => [...Array(45).fill(before), ...Array(15).fill(recent)];
    expect(trendOf(series(100, 130))).toBe("rising");
    expect(trendOf(series(100, 70))).toBe("falling");
    expect(trendOf(series(100, 110))).toBe("steady");
    expect(trendOf(series(0, 0.5))).toBe("steady");
    expect(trendOf(series(0, 3))).toBe("rising");
    expect(trendOf([])).toBe("steady");
  });

  it("as Prometheus families: feyxa_health 0/1/2, every reason 0 or 1, the live workers", () => {
    const families = healthFamilies(healthVerdict(facts({ lag_seconds: 100, workers_live: 0, last_seen: null })));
    expect(families.map((f) => [f.name, f.type])).toEqual([["feyxa_health", "gauge"], ["feyxa_health_reason", "gauge"], ["feyxa_workers_live", "gauge"]]);
    expect(families[0].samples).toEqual([{ name: "feyxa_health", value: 2 }]);
    expect(Object.fromEntries(families[1].samples.map((s) => [s.labels!.reason, s.value])))
      .toEqual({ no_worker: 1, lag: 1, dead_letters_rising: 0, endpoint_failing: 0 });
    expect(healthFamilies(healthVerdict(facts({ lag_seconds: 100 })))[0].samples[0].value).toBe(1);
    expect(healthFamilies(healthVerdict(facts()))[0].samples[0].value).toBe(0);
  });
});
