/**
 * Handler timeouts without a timer per handler run. A batch starts hundreds of runs in
 * one turn of the event loop, nearly all with the same timeout; arming (and clearing) a
 * setTimeout for each was a measurable share of the dispatcher's CPU. Runs that start in
 * the same turn with the same timeout share one Deadline instead: its timer is armed when
 * the turn ends, so it fires no earlier than any member's own start + timeout (a member
 * started early in the turn may time out a few milliseconds late), and it is cleared
 * as soon as every member has left.
 *
 * Members are callbacks, not listeners on a shared promise: a run that races its handler
 * against a promise makes three more promises, and where an OpenTelemetry context manager
 * (AsyncLocalStorage) is on, every promise costs a hook call (docs/performance.md).
 */

export class Deadline {
  readonly #members = new Set<() => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(readonly timeoutMs: number) {}

  /** Called when the turn ends: from now on the cohort is complete. */
  arm(): void {
    if (this.#members.size === 0) this.#done = true;
    else this.#timer = setTimeout(() => {
      this.#done = true;
      for (const expire of this.#members) expire();
      this.#members.clear();
    }, this.timeoutMs);
  }

  join(onExpire: () => void): void {
    this.#members.add(onExpire);
  }

  /** A member has settled; the last one to leave before the time is up clears the timer. */
  leave(onExpire: () => void): void {
    if (!this.#members.delete(onExpire) || this.#members.size > 0 || this.#done) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#done = true;
    }
  }
}

const forming = new Map<number, Deadline>();

/**
 * Joins the deadline of the runs starting in this turn with this timeout: onExpire is called
 * once the time is up, unless the member left first (`leave(onExpire)` on the deadline
 * returned, which it must call once settled). A member is one callback: join each run with its own.
 */
export function joinDeadline(timeoutMs: number, onExpire: () => void): Deadline {
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
  deadline.join(onExpire);
  return deadline;
}
