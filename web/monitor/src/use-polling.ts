/**
 * Loads data now and again (./poller.ts: never two requests of one poll in flight, slower
 * while answers are slow or failing, nothing while the tab is hidden), keeping what is
 * shown until the new answer arrives (the table never blanks, the scroll position and open
 * panels stay), and dropping, aborted, the request made for older inputs.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { startPoller, type Poller } from "./poller.ts";

/** How often the page asks again for what it shows, while answers are quick. */
export const REFRESH_MS = 4000;

/**
 * The period for numbers over a window: a 7-day chart (2-hour buckets) redrawn every 4 s
 * would cost the database a scan of the week each time for nothing new to see.
 */
export function refreshFor(window: string): number {
  return { "6h": 15_000, "24h": 30_000, "7d": 60_000 }[window] ?? REFRESH_MS;
}

export interface Polled<T> {
  data?: T;
  error?: Error;
  updatedAt?: Date;
  /** The period now: above the asked one while backing off. */
  periodMs: number;
  reload: () => void;
}

export function usePolling<T>(load: (signal: AbortSignal) => Promise<T>, key: string, intervalMs: number, live: boolean): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; updatedAt?: Date }>({});
  const [periodMs, setPeriod] = useState(intervalMs);
  const poller = useRef<Poller | undefined>(undefined);
  const reload = useCallback(() => poller.current?.reload(), []);

  useEffect(() => {
    setPeriod(intervalMs);
    const started = startPoller({
      load, intervalMs, live,
      onData: (data) => setState({ data, updatedAt: new Date() }),
      onError: (error) => setState((s) => ({ ...s, error })),
      onPeriod: setPeriod,
    });
    poller.current = started;
    return () => started.stop();
    // `load` is rebuilt each render; `key` says when its inputs changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, live, intervalMs]);

  return { ...state, periodMs, reload };
}
