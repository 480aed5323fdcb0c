/**
 * A page's state in its query string (the storefront's open order, shop and language; the
 * monitor's filters, page cursor and open event), so a reload or a shared link shows the same
 * view and the back button works. One store, one subscription to popstate.
 */
import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener("popstate", notify);

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export type ParamChanges = Record<string, string | undefined>;

/** Sets (or, with undefined or "", removes) query parameters; pushes a history entry unless replace. */
export function setUrlParams(changes: ParamChanges, { replace = false } = {}) {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === "") url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  if (url.href === window.location.href) return;
  window.history[replace ? "replaceState" : "pushState"](null, "", url);
  notify();
}

export function useUrlParams(): [URLSearchParams, typeof setUrlParams] {
  const search = useSyncExternalStore(subscribe, () => window.location.search);
  return [new URLSearchParams(search), setUrlParams];
}
