/**
 * Drains due events in bounded batches, as much as one invocation of an Edge Function
 * may do: used by retry-failed-events and by process-event's drain wake-up.
 *
 * Why a wall-clock bound: the Edge Runtime gives a request 2 s of CPU (and minutes of wall
 * clock). An isolate killed for CPU cannot finish what it claimed; its leases run out and
 * each expiry counts as a failed attempt. Deno offers no per-request CPU clock, but a
 * request's CPU time is never more than its wall-clock time: so an invocation starts no
 * batch once `budgetMs` (1 s by default) has passed since it began, and its CPU stays under
 * that second plus the one batch under way. A batch once claimed is always run and
 * completed; what is not claimed stays due, so an invocation never holds anything it does
 * not finish. Light handlers drain thousands of events in that second, heavy ones fewer:
 * the bound follows what the handlers cost, where counts had to be sized for the heaviest.
 * (Counts were the bound until 2026-11-27: 100 events a call, which the bench's Supabase
 * path showed to be the whole hosted throughput, pg_net calling about once a second.)
 *
 * Counts remain as caps an operator may set: at most `maxEvents` events, and no batch whose
 * handler runs, estimated from the heaviest event seen so far in this invocation, could take
 * it past `maxHandlerRuns` (the first batch is bounded by `batchSize` alone).
 *
 * What a batch costs, from measurement (tests/bus/functions/edge-cpu.measure.test.ts: the
 * process's CPU by process.cpuUsage(), order.created with the marketplace's six handlers,
 * the database's own work not counted, as on Supabase). Node: a cold first batch of 50
 * events ~300 ms, a warm one ~115-140 ms (~2.5 ms an event, ~0.4 ms a handler run). A whole
 * invocation of 100 events in a fresh Deno process: 490-520 ms cold, 270-370 ms warm. So
 * a second of claiming plus a cold batch of 50 stays well under the 2 s.
 *
 * An invocation that stops on a bound with events still due answers `more: true` and,
 * unless FEYXA_DRAIN_REWAKE=off, asks the database for the next invocation itself:
 * wake_dispatchers_by_http, the coalesced pg_net wake-up of process-event that every emit
 * already sends (none is sent while one is queued, so this chains invocations one after
 * another instead of fanning out), and stops by itself when nothing is due. pg_net's worker,
 * busy, takes new requests about once a second: one invocation a second (the bench's
 * Supabase path, bench/workloads/supabase-path.ts). Where pg_net is absent
 * (locally) the wake-up does nothing, and `more` tells the caller to call again.
 */
import type { Bus } from "../bus.ts";
import { nextDueEvent, wakeByHttp } from "../bus-sql.ts";
import { type Env, isSet } from "../define-settings.ts";
import type { drainLimitsInput } from "../schemas.ts";
import { BUS_SETTINGS, busSetting } from "../settings.ts";
import type { AttemptOutcome, EventStatus } from "../types.ts";

export interface DrainLimits {
  maxEvents: number;
  maxHandlerRuns: number;
  batchSize: number;
  budgetMs: number;
  /** Ask the database to wake process-event when stopping with events still due. */
  rewake: boolean;
}

/** No count cap by default (the largest a request may set): the second of claiming bounds an invocation. */
export const DRAIN_DEFAULTS = {
  maxEvents: BUS_SETTINGS.FEYXA_DRAIN_MAX_EVENTS.default,
  maxHandlerRuns: BUS_SETTINGS.FEYXA_DRAIN_MAX_HANDLER_RUNS.default,
  batchSize: BUS_SETTINGS.FEYXA_DRAIN_BATCH_SIZE.default,
  budgetMs: BUS_SETTINGS.FEYXA_DRAIN_BUDGET_MS.default,
} as const;

/** Why the invocation stopped claiming: nothing was due, or which bound it reached. */
export type StopReason = "empty" | "max_events" | "max_handler_runs" | "budget_ms";

export interface DrainSummary {
  claimed: number;
  batches: number;
  /** Handler rows written by this invocation's attempts (skipped, waiting and blocked ones included). */
  handler_runs: number;
  duration_ms: number;
  by_status: Partial<Record<EventStatus, number>>;
  stopped: StopReason;
  /** Events were still due when it stopped: call again (or let the wake-up it asked for). */
  more: boolean;
}

/** What the invocation did before draining (process-event's own event), counted against the bounds. */
export interface Spent {
  startedAt: number;
  outcomes: AttemptOutcome[];
}

export async function drainWithin(bus: Bus, limits: DrainLimits, spent?: Spent): Promise<DrainSummary> {
  const startedAt = spent?.startedAt ?? performance.now();
  const summary: DrainSummary = { claimed: 0, batches: 0, handler_runs: 0, duration_ms: 0, by_status: {}, stopped: "empty", more: false };
  let events = 0;
  let runs = 0;
  let runsPerEvent = 0; // the heaviest event seen so far in this invocation
  const count = (outcomes: AttemptOutcome[]) => {
    for (const o of outcomes) {
      events++;
      runs += o.handlers.length;
      runsPerEvent = Math.max(runsPerEvent, o.handlers.length);
    }
  };
  count(spent?.outcomes ?? []);
  for (;;) {
    const next = nextBatch(limits, events, runs, runsPerEvent, performance.now() - startedAt);
    if (typeof next === "string") {
      summary.stopped = next;
      break;
    }
    const outcomes = await bus.drainOnce(next);
    if (outcomes.length === 0) break;
    count(outcomes);
    summary.batches++;
    summary.claimed += outcomes.length;
    for (const o of outcomes) {
      summary.handler_runs += o.handlers.length;
      summary.by_status[o.status] = (summary.by_status[o.status] ?? 0) + 1;
    }
  }
  if (summary.stopped !== "empty") {
    const due = await nextDueEvent(bus.sql);
    summary.more = due !== undefined;
    if (due && limits.rewake) await wakeByHttp(bus.sql, due);
  }
  summary.duration_ms = Math.round(performance.now() - startedAt);
  return summary;
}

/** How many events the next batch may claim, or why none. */
function nextBatch(limits: DrainLimits, events: number, runs: number, runsPerEvent: number, elapsedMs: number): number | StopReason {
  if (events >= limits.maxEvents) return "max_events";
  if (runs >= limits.maxHandlerRuns) return "max_handler_runs";
  if (elapsedMs >= limits.budgetMs) return "budget_ms";
  let limit = Math.min(limits.batchSize, limits.maxEvents - events);
  if (runsPerEvent > 0) limit = Math.min(limit, Math.floor((limits.maxHandlerRuns - runs) / runsPerEvent));
  return limit >= 1 ? limit : "max_handler_runs";
}

type LimitsInput = { [K in keyof typeof drainLimitsInput]?: number };
type BudgetSetting = "FEYXA_DRAIN_BUDGET_MS" | "FEYXA_RETRY_BUDGET_MS";

/**
 * The limits of one invocation: the request's fields, else the environment's FEYXA_DRAIN_*
 * (and the wall-clock backstop `budget`, FEYXA_DRAIN_BUDGET_MS or FEYXA_RETRY_BUDGET_MS,
 * else `defaultBudgetMs`), else their defaults (src/bus/settings.ts). A setting out of range
 * is a 500 naming it: a misconfiguration, not the caller's fault.
 */
export function drainLimits(input: LimitsInput, env: Env, budget: BudgetSetting, defaultBudgetMs: number = BUS_SETTINGS[budget].default): DrainLimits {
  return {
    maxEvents: input.max_events ?? busSetting(env, "FEYXA_DRAIN_MAX_EVENTS"),
    maxHandlerRuns: input.max_handler_runs ?? busSetting(env, "FEYXA_DRAIN_MAX_HANDLER_RUNS"),
    batchSize: input.batch_size ?? busSetting(env, "FEYXA_DRAIN_BATCH_SIZE"),
    budgetMs: input.budget_ms ?? (isSet(env, budget) ? busSetting(env, budget) : defaultBudgetMs),
    rewake: busSetting(env, "FEYXA_DRAIN_REWAKE"),
  };
}
