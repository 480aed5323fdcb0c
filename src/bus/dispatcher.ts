/**
 * The long-running dispatcher: keeps up to batchSize × concurrency events in flight,
 * claiming the next batch while the current ones run (a pipeline, not claim → run →
 * complete in lockstep), sleeps when nothing is due, and wakes on NOTIFY feyxa_events.
 * NOTIFY is only a hint: a slow poll runs regardless, so a lost notification (or a pooler
 * that drops LISTEN) delays an event by at most one poll interval, and never strands it.
 */
import type { Bus } from "./bus.ts";
import { HEARTBEAT_MS } from "./heartbeats.ts";
import { BUS_SETTINGS } from "./settings.ts";
import { Signal } from "./signal.ts";
import type { AttemptOutcome } from "./types.ts";

export interface DispatcherOptions {
  /** Events claimed per batch (one claim statement). */
  batchSize?: number;
  /** Claims in flight at once; up to batchSize × concurrency events run at a time. */
  concurrency?: number;
  /** Safety-net poll when no notification comes. */
  pollIntervalMs?: number;
  /** Subscribe to NOTIFY (false behind a transaction pooler). */
  listen?: boolean;
  /**
   * After a claim that found less than a batch (no backlog), the next claim waits this
   * long, so that the wake-ups of a steady trickle of events share one claim instead of
   * costing one claim statement each.
   */
  wakeCoalesceMs?: number;
  /** How long stop() waits for in-flight handlers before releasing their events. */
  shutdownGraceMs?: number;
  /** How often it reports alive (feyxa.worker_heartbeats: src/bus/heartbeats.ts), from a timer off the claim loop. */
  heartbeatMs?: number;
  /** Called with each claimed batch's outcomes once all of them are recorded. */
  onBatch?: (outcomes: AttemptOutcome[]) => void;
  onError?: (error: unknown) => void;
}

export class Dispatcher {
  readonly #bus: Bus;
  readonly #options: Required<Omit<DispatcherOptions, "onBatch">> & Pick<DispatcherOptions, "onBatch">;
  #running = false;
  #pump: Promise<void> = Promise.resolve();
  /** Fired by NOTIFY (something may be due), a finished batch (room) and a finished claim. */
  readonly #changed = new Signal();
  /** True until a claim comes back empty with no wake-up since it started. */
  #maybeDue = true;
  /** Counts wake-ups, so a claim that was under way when one came does not then clear #maybeDue. */
  #wakeCount = 0;
  #claiming = 0;
  /** When the last claim came back short of a batch (no backlog); -Infinity while backlogged. */
  #lastShortClaimAt = -Infinity;
  #claimedInFlight = 0;
  /** Claims failed in a row: the first success after some is a recovery (the database is back). */
  #failedClaims = 0;
  /** Claims on their way: stop() waits for them, so that none lands after it returned. */
  readonly #claims = new Set<Promise<void>>();
  readonly #batches = new Set<Promise<void>>();
  #unlisten: (() => Promise<void>)[] = [];
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(bus: Bus, options: DispatcherOptions = {}) {
    this.#bus = bus;
    this.#options = {
      batchSize: BUS_SETTINGS.FEYXA_BATCH_SIZE.default,
      concurrency: BUS_SETTINGS.FEYXA_CONCURRENCY.default,
      pollIntervalMs: BUS_SETTINGS.FEYXA_POLL_MS.default,
      wakeCoalesceMs: 5,
      listen: true,
      shutdownGraceMs: 15_000,
      heartbeatMs: HEARTBEAT_MS,
      onError: (error) => console.error("feyxa dispatcher:", error),
      ...options,
    };
  }

  get running(): boolean {
    return this.#running;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    if (this.#options.listen) {
      let listened = false;
      // postgres.js listens again by itself after losing the connection; NOTIFYs sent meanwhile are lost, so claim at once.
      const events = await this.#bus.sql.listen("feyxa_events", () => this.wake(), () => {
        if (listened) {
          this.#bus.observer?.listenerReconnected?.();
          this.wake();
        }
        listened = true;
      });
      const subscriptions = await this.#bus.sql.listen("feyxa_subscriptions", () => this.#bus.router.invalidate());
      this.#unlisten = [() => events.unlisten(), () => subscriptions.unlisten()];
    }
    this.#pump = this.#run();
    // Alive from its first claim on: the first report is written now, the next ones by a timer.
    const beat = (force: boolean) => this.#bus.heartbeats.beat("dispatcher", this.#bus.inFlight.size, force);
    this.#heartbeat = setInterval(() => void beat(true), this.#options.heartbeatMs);
    await beat(true);
  }

  /** Something may be due: claim now. */
  wake(): void {
    this.#wakeCount++;
    this.#maybeDue = true;
    this.#changed.fire();
  }

  /**
   * Stops claiming, lets in-flight handlers finish (they are bounded by their timeouts),
   * and gives back whatever is still held after the grace period, so that another
   * dispatcher can take it at once rather than after its lease runs out. A claim on its way
   * when stop() is called gives its events back as soon as it lands: no handler starts after.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#heartbeat);
    this.#changed.fire();
    await Promise.allSettled(this.#unlisten.map((u) => u()));
    const finished = this.#pump
      .then(() => Promise.allSettled([...this.#claims]))
      .then(() => Promise.allSettled([...this.#batches]))
      .then(() => true);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#options.shutdownGraceMs)));
    const allFinished = await Promise.race([finished, grace]);
    clearTimeout(timer);
    if (!allFinished) await this.#bus.release([...this.#bus.inFlight]).catch(this.#options.onError);
    // Stopped, not silent: the health verdict stops counting it at once, and says it stopped.
    await this.#bus.heartbeats.stop("dispatcher");
  }

  /** Starts claims while there is room and work may be due; otherwise waits for a change or the poll. */
  async #run(): Promise<void> {
    const { batchSize, concurrency, pollIntervalMs, wakeCoalesceMs } = this.#options;
    const capacity = batchSize * concurrency;
    while (this.#running) {
      const room = capacity - this.#claimedInFlight;
      // Backlogged: claims side by side. A trickle: one claim at a time, spaced by wakeCoalesceMs.
      const backlogged = this.#lastShortClaimAt === -Infinity;
      const coalesceLeft = this.#lastShortClaimAt + wakeCoalesceMs - performance.now();
      // Claim when a batch fits (or, with nothing running, whatever fits).
      const canClaim = this.#claiming < (backlogged ? concurrency : 1) &&
        (room >= batchSize || (this.#claimedInFlight === 0 && room > 0));
      if (canClaim && this.#maybeDue && coalesceLeft <= 0) {
        this.#claim(Math.min(batchSize, room));
        continue;
      }
      const waitFor: Promise<unknown>[] = [this.#changed.next];
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (canClaim && this.#maybeDue) waitFor.push(new Promise<void>((resolve) => (timer = setTimeout(resolve, coalesceLeft))));
      // Idle (nothing claiming, nothing due as far as we know): the poll is the safety net.
      if (!this.#maybeDue && this.#claiming === 0) {
        waitFor.push(new Promise<void>((resolve) => (timer = setTimeout(() => {
          this.#maybeDue = true;
          resolve();
        }, pollIntervalMs))));
      }
      await Promise.race(waitFor);
      clearTimeout(timer);
    }
  }

  #claim(limit: number): void {
    const wakeCount = this.#wakeCount;
    this.#claiming++;
    this.#claimedInFlight += limit; // reserve the room now; given back below for what was not found
    const observer = this.#bus.observer;
    const startedAt = performance.now();
    const claim = this.#bus.claimDue(limit).then(
      (events): Promise<void> | void => {
        this.#bus.processMetrics.claimed(performance.now() - startedAt);
        if (this.#failedClaims > 0) {
          observer?.claimsResumed?.(this.#failedClaims);
          this.#failedClaims = 0;
        }
        if (!this.#running) {
          this.#claimedInFlight -= limit;
          if (events.length > 0) return this.#giveBack(events.map((e) => e.id));
          return;
        }
        this.#claimedInFlight -= limit - events.length;
        this.#lastShortClaimAt = events.length < limit ? performance.now() : -Infinity;
        // Only an empty claim puts the dispatcher to sleep: one that found events is followed
        // by another (wakeCoalesceMs later under a trickle), which picks up events whose
        // commits coalesced their wake-up into the one that woke us (see supabase/schemas/bus/wake.sql).
        if (events.length === 0 && wakeCount === this.#wakeCount) this.#maybeDue = false;
        if (events.length > 0) this.#runBatch(events.length, this.#bus.processEach(events, startedAt));
      },
      (error) => {
        // The database went away or refused: report, and wait for the poll before trying again.
        this.#claimedInFlight -= limit;
        if (wakeCount === this.#wakeCount) this.#maybeDue = false;
        this.#failedClaims++;
        if (observer?.claimFailed) observer.claimFailed(error);
        else this.#options.onError(error);
      },
    ).finally(() => {
      this.#claiming--;
      this.#claims.delete(claim);
      this.#changed.fire();
    });
    this.#claims.add(claim);
  }

  /** Events claimed after stop() began: back to pending at once (not a failed attempt), for another dispatcher. */
  #giveBack(eventIds: string[]): Promise<void> {
    return this.#bus.release(eventIds).then(() => {}, this.#options.onError);
  }

  #runBatch(size: number, outcomes: Promise<AttemptOutcome[]>): void {
    const batch = outcomes.then(
      (o) => this.#options.onBatch?.(o),
      (error) => this.#options.onError(error),
    ).finally(() => {
      this.#claimedInFlight -= size;
      // Its completion may have made events claimable that no NOTIFY announces: the next of
      // an ordering line, a capped tenant's room. Claim again rather than wait for the poll:
      // a wake-up, so that a claim under way, whose snapshot may predate the completion, does
      // not put the dispatcher back to sleep when it comes back empty.
      this.#batches.delete(batch);
      this.wake();
    });
    this.#batches.add(batch);
  }
}
