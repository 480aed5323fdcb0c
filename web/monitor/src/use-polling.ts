/**
 * Loads data now and again every few seconds, keeping what is shown until the new answer
 * arrives (the table never blanks, the scroll position and open panels stay), skipping
 * ticks while the tab is hidden, and ignoring answers to requests made for older inputs.
 */
import { useCallback, useEffect, useState } from "react";

/** How often the page asks again for what it shows. */
export const REFRESH_MS = 4000;

export interface Polled<T> {
  data?: T;
  error?: Error;
  updatedAt?: Date;
  reload: () => void;
}

export function usePolling<T>(load: () => Promise<T>, key: string, intervalMs: number, live: boolean): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, "reload">>({});
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    let current = true;
    const run = () =>
      load().then(
        (data) => current && setState({ data, updatedAt: new Date() }),
        (error: Error) => current && setState((s) => ({ ...s, error })),
      );
    void run();
    const timer = live ? setInterval(() => document.hidden || void run(), intervalMs) : undefined;
    return () => {
      current = false;
      clearInterval(timer);
    };
    // `load` is rebuilt each render; `key` says when its inputs changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, live, intervalMs, generation]);

  return { ...state, reload };
}
