/**
 * Handler timeouts without a timer per handler run. A batch starts hundreds of runs in
 * one turn of the event loop, nearly all with the same timeout; arming (and clearing) a
 * setTimeout for each was a measurable share of the dispatcher's CPU. Runs that start in
 * the same turn with the same timeout share one Deadline instead: its timer is armed when
 * the turn ends, so it fires no earlier than any member's own start + timeout (a member
 * started early in the turn may time out a few milliseconds late), and it is cleared
 * as soon as every member has settled.
 */

/** Rejected with this when the time is up; each member turns it into its own error. */
export const TIME_UP: unique symbol = Symbol("time up");

export class Deadline {
  /** Rejects with TIME_UP when the time is up; never settles if every member finished first. */
  readonly expired: Promise<never>;
  #expire!: (reason: typeof TIME_UP) => void;
  #members = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(readonly timeoutMs: number) {
    this.expired = new Promise<never>((_, reject) => (this.#expire = reject));
    // Members only ever race against it: without a member listening, a rejection must not
    // count as unhandled.
    this.expired.catch(() => {});
  }

  /** Called when the turn ends: from now on the cohort is complete. */
  arm(): void {
    if (this.#members === 0) this.#done = true;
    else this.#timer = setTimeout(() => {
      this.#done = true;
      this.#expire(TIME_UP);
    }, this.timeoutMs);
  }

  join(): void {
    this.#members++;
  }

  /** A member has settled; the last one to settle before the time is up clears the timer. */
  leave(): void {
    if (--this.#members === 0 && this.#timer !== undefined && !this.#done) {
      clearTimeout(this.#timer);
      this.#done = true;
    }
  }
}

const forming = new Map<number, Deadline>();

/** The Deadline of runs starting in this turn with this timeout; the caller must leave() once settled. */
export function joinDeadline(timeoutMs: number): Deadline {
  let deadline = forming.get(timeoutMs);
  if (!deadline) {
    const fresh = new Deadline(timeoutMs);
    forming.set(timeoutMs, fresh);
    // A zero timer (setImmediate is not a web standard) runs after this turn and its microtasks.
    setTimeout(() => {
      forming.delete(timeoutMs);
      fresh.arm();
    }, 0);
    deadline = fresh;
  }
  deadline.join();
  return deadline;
}
