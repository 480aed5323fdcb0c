/**
 * Heartbeats: each worker tells the database it is alive (feyxa.report_worker,
 * supabase/schemas/bus/health.sql), so that the health verdict can say "no worker seen for
 * N s while events are due" (src/bus/telemetry/health.ts). Cheap by construction:
 *
 * - one upsert of a tiny table, at most once per HEARTBEAT_MS per role (the dispatcher, or
 *   a function's name) and process or isolate, however many events flow; never on the claim
 *   path: the Dispatcher reports from a timer, a function once an invocation has done its
 *   work (functions/reports-alive.ts); a Dispatcher that stops says so (`stop`), and is no
 *   longer counted;
 * - a report that fails (the database away) is dropped: the next one tries again, and the
 *   verdict meanwhile says what a missing heartbeat means. The first failure after a success
 *   goes to onError, not every one.
 *
 * Who: the bus's worker id (what its claims are locked by); where: `node` (with the
 * machine's host name) or `edge` (the function is the place); when it started; in flight:
 * the events it was running when it reported.
 */
import type { Sql } from "./types.ts";

/** How often a worker reports, at most (the Dispatcher's timer; an invocation's throttle). */
export const HEARTBEAT_MS = 5_000;

export type WorkerRuntime = "node" | "edge";

/** Where this process runs: a Node process (and its host name) or an Edge Function's isolate. */
export interface Whereabouts {
  runtime: WorkerRuntime;
  host?: string;
}

export class Heartbeats {
  readonly #sql: Sql;
  readonly #worker: string;
  readonly #where: Whereabouts;
  readonly #onError: (error: unknown) => void;
  /** Per role: when it started (its first report, or its start()), when it last wrote. */
  readonly #roles = new Map<string, { startedAt: Date; wroteAt: number }>();
  #failing = false;

  constructor(sql: Sql, worker: string, where: Whereabouts, onError: (error: unknown) => void) {
    this.#sql = sql;
    this.#worker = worker;
    this.#where = where;
    this.#onError = onError;
  }

  /**
   * Reports `role` alive with `inFlight` events, unless it reported less than HEARTBEAT_MS
   * ago (`force`: regardless). Never rejects.
   */
  async beat(role: string, inFlight: number, force = false): Promise<void> {
    const now = performance.now();
    let state = this.#roles.get(role);
    if (state && !force && now - state.wroteAt < HEARTBEAT_MS) return;
    if (!state) this.#roles.set(role, state = { startedAt: new Date(), wroteAt: now });
    state.wroteAt = now;
    const { runtime, host } = this.#where;
    try {
      await this.#sql`select feyxa.report_worker(${this.#worker}, ${role}, ${runtime}, ${host ?? null},
                                                 ${state.startedAt}, ${inFlight})`;
      this.#failing = false;
    } catch (error) {
      state.wroteAt = -Infinity; // try again at the next chance
      if (!this.#failing) this.#onError(error);
      this.#failing = true;
    }
  }

  /** A role that stops (the Dispatcher): marked stopped, no longer counted; its next report starts it anew. Never rejects. */
  async stop(role: string): Promise<void> {
    this.#roles.delete(role);
    await this.#sql`select feyxa.stop_worker(${this.#worker}, ${role})`.then(() => {}, this.#onError);
  }
}
