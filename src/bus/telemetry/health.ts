/**
 * The bus's health verdict: healthy, degraded or down, and why, with the lag and the
 * throughput trend. The facts come from one call (feyxa.health_facts, supabase/schemas/bus/
 * health.sql: heartbeats, the head of the queue, dead letters, the alert rules' failing
 * endpoints, the per-minute counters); the rules are here, a pure function of them:
 *
 *   no_worker            down      events are due and no worker or invocation is running: none
 *                                  reported within health_silence (90 s), or the last ones stopped
 *   lag                  degraded  the oldest due, unclaimed event has waited over health_max_lag (60 s)
 *   dead_letters_rising  degraded  more events went dead in the last health_dead_window (15 min)
 *                                  than in the one before
 *   endpoint_failing     degraded  an endpoint_failing alert rule fires (a remote route failing
 *                                  for hours, deactivated)
 *
 * The bounds are the bus's settings (event_bus_settings, docs/observability.md). Served by
 * the metrics function (GET /metrics/health: 200, or 503 when down; and feyxa_health), and
 * by event-monitor (GET /health, as the signed-in operator).
 */
import type { Queryable } from "../types.ts";
import type { WorkerRuntime } from "../heartbeats.ts";
import type { MetricFamily } from "./prometheus.ts";

export const HEALTH_STATUSES = ["healthy", "degraded", "down"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];
export const HEALTH_REASONS = ["no_worker", "lag", "dead_letters_rising", "endpoint_failing"] as const;
export type HealthReasonCode = (typeof HEALTH_REASONS)[number];

/** One row of feyxa.health_facts(). */
export interface HealthFacts {
  checked_at: Date;
  lag_seconds: number | null;
  workers_live: number;
  last_seen: Date | null;
  workers: {
    worker: string; role: string; runtime: WorkerRuntime; host: string | null; started_at: string; last_seen: string; in_flight: number;
    stopped_at: string | null; live: boolean;
  }[];
  dead_current: number;
  dead_previous: number;
  failing_endpoints: string[];
  /** Successful handler runs in each of the 60 whole minutes before counted_to, oldest first. */
  runs_per_minute: (number | string)[] | null;
  counted_to: Date;
  silence_seconds: number;
  max_lag_seconds: number;
  dead_window_seconds: number;
}

export interface HealthReason {
  code: HealthReasonCode;
  /** What this reason alone makes the verdict. */
  status: Exclude<HealthStatus, "healthy">;
  message: string;
  /** The measure (seconds; dead letters; endpoints) and its bound; null where there is none. */
  value: number | null;
  threshold: number | null;
  /** endpoint_failing: the remote routes' handler names. */
  handlers?: string[];
  /** no_worker: the worker last seen, and whether it said it stopped (else it went silent). */
  last_worker?: { role: string; runtime: WorkerRuntime; host: string | null; stopped: boolean };
}

export interface Health {
  status: HealthStatus;
  reasons: HealthReason[];
  checked_at: Date;
  /** How long the oldest due, unclaimed event has waited; null when nothing is due. */
  lag_seconds: number | null;
  workers: {
    /** Workers and invocations that reported within the silence bound. */
    live: number;
    last_seen_at: Date | null;
    /** The latest 50 heartbeats kept (an hour's), newest first. */
    recent: {
      worker: string; role: string; runtime: WorkerRuntime; host: string | null; started_at: Date; last_seen_at: Date; in_flight: number;
      stopped_at: Date | null; live: boolean;
    }[];
  };
  dead_letters: { window_seconds: number; current: number; previous: number };
  throughput: {
    /** Handler runs that succeeded, per minute, over the 60 whole minutes up to `to`, oldest first. */
    per_minute: number[];
    /** The end of the last minute counted (the counters are folded every minute: a minute or so behind). */
    to: Date;
    /** The last 15 minutes' mean against the 15 before: up or down by a fifth or more. */
    trend: "rising" | "falling" | "steady";
  };
  thresholds: { silence_seconds: number; max_lag_seconds: number; dead_window_seconds: number };
}

export async function readHealthFacts(sql: Queryable): Promise<HealthFacts> {
  const [facts] = await sql<HealthFacts[]>`select * from feyxa.health_facts()`;
  return facts;
}

export async function readHealth(sql: Queryable): Promise<Health> {
  return healthVerdict(await readHealthFacts(sql));
}

const seconds = (s: number) => (s < 10 ? s.toFixed(1) : String(Math.round(s)));

/** The verdict from the facts: every reason that holds, the worst of them as the status. */
export function healthVerdict(facts: HealthFacts): Health {
  const reasons: HealthReason[] = [];
  const { lag_seconds: lag, silence_seconds: silence, max_lag_seconds: maxLag, dead_window_seconds: window } = facts;
  const checkedAt = new Date(facts.checked_at);
  if (lag !== null && facts.workers_live === 0) {
    const last = facts.workers[0];
    const since = facts.last_seen ? Math.max(0, (checkedAt.getTime() - new Date(facts.last_seen).getTime()) / 1000) : null;
    const where = last && `${last.role} (${last.runtime}${last.host ? ` on ${last.host}` : ""})`;
    const what = since === null ? "no worker or invocation seen in the last hour"
      : last?.stopped_at ? `no worker or invocation running: the last, ${where}, stopped ${seconds(since)} s ago`
      : `no worker or invocation seen for ${seconds(since)} s (bound ${seconds(silence)} s): the last was ${where}`;
    reasons.push({
      code: "no_worker", status: "down", value: since, threshold: silence,
      ...(last ? { last_worker: { role: last.role, runtime: last.runtime, host: last.host, stopped: last.stopped_at !== null } } : {}),
      message: `${what}, while events are due (the oldest for ${seconds(lag)} s)`,
    });
  }
  if (lag !== null && lag > maxLag) {
    reasons.push({ code: "lag", status: "degraded", value: lag, threshold: maxLag,
      message: `the oldest due event has waited ${seconds(lag)} s (bound ${seconds(maxLag)} s)` });
  }
  if (facts.dead_current > facts.dead_previous) {
    const minutes = Math.round(window / 60);
    reasons.push({ code: "dead_letters_rising", status: "degraded", value: facts.dead_current, threshold: facts.dead_previous,
      message: `${facts.dead_current} events went dead in the last ${minutes} min, ${facts.dead_previous} in the ${minutes} min before` });
  }
  if (facts.failing_endpoints.length > 0) {
    reasons.push({ code: "endpoint_failing", status: "degraded", value: facts.failing_endpoints.length, threshold: null,
      handlers: facts.failing_endpoints, message: `endpoint failing: ${facts.failing_endpoints.join(", ")}` });
  }
  const status: HealthStatus = reasons.some((r) => r.status === "down") ? "down" : reasons.length ? "degraded" : "healthy";
  const perMinute = (facts.runs_per_minute ?? []).map(Number);
  return {
    status,
    reasons,
    checked_at: checkedAt,
    lag_seconds: lag,
    workers: {
      live: facts.workers_live,
      last_seen_at: facts.last_seen && new Date(facts.last_seen),
      recent: facts.workers.map(({ started_at, last_seen, stopped_at, ...w }) =>
        ({ ...w, started_at: new Date(started_at), last_seen_at: new Date(last_seen), stopped_at: stopped_at === null ? null : new Date(stopped_at) })),
    },
    dead_letters: { window_seconds: window, current: facts.dead_current, previous: facts.dead_previous },
    throughput: { per_minute: perMinute, to: new Date(facts.counted_to), trend: trendOf(perMinute) },
    thresholds: { silence_seconds: silence, max_lag_seconds: maxLag, dead_window_seconds: window },
  };
}

/** The mean of the last 15 minutes against that of the 15 before: a change of a fifth or more is a trend. */
export function trendOf(perMinute: readonly number[]): Health["throughput"]["trend"] {
  const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const recent = mean(perMinute.slice(-15));
  const before = mean(perMinute.slice(-30, -15));
  if (recent > before * 1.2 && recent - before >= 1) return "rising";
  if (recent < before * 0.8 && before - recent >= 1) return "falling";
  return "steady";
}

/** The HTTP status an uptime check reads: 503 when down, else 200 (degraded still serves). */
export const healthHttpStatus = (health: Health) => (health.status === "down" ? 503 : 200);

/**
 * The verdict as Prometheus families, beside the database's in /metrics: feyxa_health (0
 * healthy, 1 degraded, 2 down), feyxa_health_reason (1 for each reason that holds, every
 * reason listed so that an alert on one never meets an absent series), feyxa_workers_live.
 */
export function healthFamilies(health: Health): MetricFamily[] {
  const held = new Set(health.reasons.map((r) => r.code));
  return [
    { name: "feyxa_health", help: "The bus's health verdict: 0 healthy, 1 degraded, 2 down (GET /functions/v1/metrics/health says why).", type: "gauge",
      samples: [{ name: "feyxa_health", value: HEALTH_STATUSES.indexOf(health.status) }] },
    { name: "feyxa_health_reason", help: "1 while this reason holds: no_worker (down), lag, dead_letters_rising, endpoint_failing (degraded).", type: "gauge",
      samples: HEALTH_REASONS.map((reason) => ({ name: "feyxa_health_reason", labels: { reason }, value: held.has(reason) ? 1 : 0 })) },
    { name: "feyxa_workers_live", help: "Dispatchers and function invocations that reported alive within the health verdict's silence bound.", type: "gauge",
      samples: [{ name: "feyxa_workers_live", value: health.workers.live }] },
  ];
}
