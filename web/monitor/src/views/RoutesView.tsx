/**
 * Every route: which handler an event pattern goes to, where it runs (code, a function, a
 * URL), whether it runs (active, paused, switched off, retired), and its own runs, failure
 * rate, p50/p95 and last error over the window: its handler's runs of the events its pattern
 * matches, so a route that never matched shows none (two overlapping routes of one handler
 * say that they share their runs). A search and filters narrow the list (kept in the URL:
 * rq, rstate, rfailing). An operator pauses a route through a dialog that names what will
 * wait and asks why; its events then wait, they do not fail; resumed, they run. On a phone
 * each route is a card.
 */
import { useState } from "react";
import { api } from "../api.ts";
import { PauseRouteDialog } from "../components/PauseRouteDialog.tsx";
import { Scroll } from "../components/Scroll.tsx";
import { formatDuration, formatNumber, formatPercent, relativeTime, windowLabel } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { RouteRow } from "../types.ts";
import { refreshFor, usePolling } from "../use-polling.ts";
import { useUrlParams } from "../url-state.ts";

type T = ReturnType<typeof useI18n>["t"];
const STATES = ["active", "paused", "off", "retired"] as const;
type RouteState = (typeof STATES)[number];

const stateOf = (r: RouteRow): RouteState => (r.retired_at ? "retired" : !r.is_active ? "off" : r.paused_at ? "paused" : "active");
const keyOf = (r: RouteRow) => `${r.event_pattern}|${r.handler_name}`;

export function RoutesView({ live, window, canAct, version, onChanged }: { live: boolean; window: string; canAct: boolean; version: number; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const [params, setParams] = useUrlParams();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [pausing, setPausing] = useState<RouteRow | undefined>();
  const { data, error: loadError, reload } = usePolling((signal) => api.routes(window, signal), `${window}|${version}`, refreshFor(window), live);

  const search = params.get("rq") ?? "";
  const state = STATES.find((s) => s === params.get("rstate"));
  const failing = params.get("rfailing") === "1";
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = data?.routes.filter((r) => {
    const text = `${r.event_pattern} ${r.handler_name} ${targetOf(r, t)}`.toLowerCase();
    return words.every((w) => text.includes(w)) && (!state || stateOf(r) === state) && (!failing || r.failures > 0);
  });

  const resume = async (r: RouteRow) => {
    setBusy(keyOf(r));
    setError(undefined);
    try {
      await api.setRoute({ action_id: crypto.randomUUID(), action: "resume", event_pattern: r.event_pattern, handler_name: r.handler_name });
      reload();
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section className="card" data-testid="routes" aria-labelledby="routes-title">
      <h2 id="routes-title">{t("routesTitle", { window: windowLabel(window, lang) })}</h2>
      <p className="hint">{t("routesHint")}</p>
      <form className="filter-row route-filters" role="search" aria-label={t("routeSearch")} onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          {t("routeSearch")}
          <input type="search" name="rq" value={search} placeholder="order.*, fintech…" aria-describedby="route-search-hint" autoComplete="off" spellCheck={false}
            onChange={(e) => setParams({ rq: e.target.value }, { replace: true })} data-testid="route-search" />
          <small id="route-search-hint" className="hint">{t("routeSearchHint")}</small>
        </label>
        <label className="field">
          {t("routeState")}
          <select name="rstate" value={state ?? ""} onChange={(e) => setParams({ rstate: e.target.value }, { replace: true })} data-testid="route-state">
            <option value="">{t("routeAnyState")}</option>
            {STATES.map((s) => <option key={s} value={s}>{t(`route_${s}`)}</option>)}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" name="rfailing" checked={failing} onChange={(e) => setParams({ rfailing: e.target.checked ? "1" : undefined }, { replace: true })}
            data-testid="route-failing" />
          {t("routeFailing")}
        </label>
      </form>
      {(error ?? loadError?.message) && <p className="error" role="alert">{error ?? loadError?.message}</p>}
      {data && shown && (
        <>
          <p className="muted" data-testid="routes-shown" aria-live="polite">
            {t("routesShown", { n: formatNumber(shown.length, lang), total: formatNumber(data.routes.length, lang) })}
          </p>
          {shown.length === 0 ? <p className="empty">{t("noRouteMatches")}</p> : (
            <Scroll label={t("viewRoutes")}>
              <table className="compact cards" data-testid="routes-table">
                <thead>
                  <tr>
                    <th>{t("route")}</th><th>{t("target")}</th><th>{t("state")}</th><th>{t("runs")}</th><th>{t("failureRate")}</th>
                    <th>p50 / p95</th><th>{t("lastError")}</th>{canAct && <th><span className="sr-only">{t("actions")}</span></th>}
                  </tr>
                </thead>
                <tbody>
                  {shown.map((r) => (
                    <tr key={keyOf(r)} data-testid="route-row" data-pattern={r.event_pattern} data-handler={r.handler_name} data-runs={r.runs}>
                      <td className="card-title">
                        <span className="mono">{r.event_pattern} → {r.handler_name}</span>
                        {r.shared_with.length > 0 && <div className="muted small" data-testid="shared-with">{t("sharedWith", { patterns: r.shared_with.join(", ") })}</div>}
                      </td>
                      <td data-label={t("target")}>{targetOf(r, t)}</td>
                      <td data-label={t("state")}><span className={`badge badge-${stateOf(r)}`} data-state={stateOf(r)}>{t(`route_${stateOf(r)}`)}</span></td>
                      <td data-label={t("runs")} data-testid="route-runs" className="nowrap">
                        {r.runs ? formatNumber(r.runs, lang) : t("noRuns")}
                        {r.deferred > 0 && <span className="muted"> ({t("deferredN", { n: formatNumber(r.deferred, lang) })})</span>}
                      </td>
                      <td data-label={t("failureRate")} data-testid="route-failure-rate">{r.runs ? formatPercent(r.failures / r.runs, lang) : "—"}</td>
                      <td data-label="p50 / p95" className="nowrap">
                        {r.p50_ms === null ? "—" : `${formatDuration(r.p50_ms, lang)} / ${formatDuration(r.p95_ms ?? 0, lang)}`}
                      </td>
                      <td data-label={t("lastError")} className={r.last_error ? "error-text" : undefined} data-testid="route-last-error">
                        {r.last_error ? `${r.last_error} (${relativeTime(r.last_error_at!, lang)})` : "—"}
                      </td>
                      {canAct && (
                        <td className="card-actions">
                          {r.is_active && !r.retired_at && (
                            <button type="button" data-testid="toggle-route" disabled={busy === keyOf(r)}
                              onClick={() => (r.paused_at ? resume(r) : setPausing(r))}
                              aria-label={`${r.paused_at ? t("resumeRoute") : t("pauseRoute")}: ${r.event_pattern} → ${r.handler_name}`}>
                              {r.paused_at ? t("resumeRoute") : t("pauseRoute")}
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          )}
        </>
      )}
      {pausing && <PauseRouteDialog route={pausing} onClose={() => setPausing(undefined)} onDone={() => (reload(), onChanged())} />}
    </section>
  );
}

function targetOf(r: RouteRow, t: T): string {
  if (r.target_kind === "function") return t("targetFunction", { name: r.target ?? "" });
  if (r.target_kind === "url") return r.target ?? "";
  return t("targetCode");
}
