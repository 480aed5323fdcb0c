/**
 * One thing the page keeps fresh, asked for again and again, never twice at once: the next
 * request is scheduled only when the previous answer (or failure) has arrived, a period
 * after it. While answers are slow (over SLOW_MS) or failing, the period doubles, up to
 * MAX_MS; the first quick answer brings it back. A hidden tab asks nothing: the tick that
 * finds the tab hidden parks, and the tab coming back asks at once. Stopping aborts the
 * request in flight (the inputs changed: its answer is of no use). No React here, so that it
 * is tested alone (tests/web/monitor-poller.test.ts); use-polling.ts wraps it for the views.
 */

/** An answer slower than this counts as slow: the next one waits longer. */
export const SLOW_MS = 1500;
/** The longest wait between two requests while backing off. */
export const MAX_MS = 60_000;

export interface PollerOptions<T> {
  load: (signal: AbortSignal) => Promise<T>;
  /** The period while answers are quick. */
  intervalMs: number;
  /** Ask again and again (else once, and on reload()). */
  live: boolean;
  onData: (data: T) => void;
  onError: (error: Error) => void;
  /** The period now, when it changes (backing off, or back to normal). */
  onPeriod?: (periodMs: number) => void;
  /** Where the tab's visibility comes from (the document's, in the page). */
  visibility?: { hidden: () => boolean; onChange: (listener: () => void) => () => void };
  now?: () => number;
}

export interface Poller {
  /** Ask now: at once when idle, right after the answer when a request is in flight. */
  reload: () => void;
  stop: () => void;
}

const documentVisibility = {
  hidden: () => typeof document !== "undefined" && document.hidden,
  onChange: (listener: () => void) => {
    document.addEventListener("visibilitychange", listener);
    return () => document.removeEventListener("visibilitychange", listener);
  },
};

export function startPoller<T>(o: PollerOptions<T>): Poller {
  const visibility = o.visibility ?? documentVisibility;
  const now = o.now ?? (() => performance.now());
  let period = o.intervalMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  let again = false;
  let parked = false;
  let stopped = false;

  const setPeriod = (next: number) => {
    if (next !== period) o.onPeriod?.(next);
    period = next;
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = o.live ? setTimeout(tick, period) : undefined;
  };
  const tick = () => {
    if (visibility.hidden()) {
      parked = true; // the tab coming back asks at once
      return;
    }
    void run();
  };
  const run = async () => {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    clearTimeout(timer);
    const controller = (inFlight = new AbortController());
    const started = now();
    let failed = false;
    try {
      const data = await o.load(controller.signal);
      if (!stopped) o.onData(data);
    } catch (error) {
      failed = true;
      if (!stopped && !controller.signal.aborted) o.onError(error as Error);
    }
    inFlight = undefined;
    if (stopped) return;
    const slow = failed || now() - started > SLOW_MS;
    setPeriod(slow ? Math.min(MAX_MS, period * 2) : o.intervalMs);
    if (again) {
      again = false;
      void run();
    } else schedule();
  };
  const stopListening = visibility.onChange(() => {
    if (!visibility.hidden() && parked) {
      parked = false;
      void run();
    }
  });

  void run();
  return {
    reload: () => void run(),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
      stopListening();
    },
  };
}
