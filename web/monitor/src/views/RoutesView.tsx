/**
 * Every route: which handler an event pattern goes to, where it runs (code, a function,
 * a URL), whether it runs (active, paused, switched off, retired), and its handler's runs,
 * failure rate, p50/p95 and last error over the window. An operator pauses a route here:
 * its events then wait, they do not fail; resumed, they run.
 */
import { useState } from "react";
import { api } from "../api.ts";
import { formatDuration, relativeTime } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { RouteRow } from "../types.ts";
import { REFRESH_MS, usePolling } from "../use-polling.ts";

type T = ReturnType<typeof useI18n>["t"];

export function RoutesView({ live, window, canAct, version, onChanged }: { live: boolean; window: string; canAct: boolean; version: number; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const { data, error: loadError, reload } = usePolling(() => api.routes(window), `${window}|${version}`, REFRESH_MS, live);
  const toggle = async (r: RouteRow) => {
    const key = `${r.event_pattern}|${r.handler_name}`;
    setBusy(key);
    setError(undefined);
    try {
      await api.setRoute({ action_id: crypto.randomUUID(), action: r.paused_at ? "resume" : "pause", event_pattern: r.event_pattern, handler_name: r.handler_name });
      reload();
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <section className="card" data-testid="routes">
      <h2>{t("routesTitle", { window })}</h2>
      <p className="hint">{t("routesHint")}</p>
      {(error ?? loadError?.message) && <p className="error" role="alert">{error ?? loadError?.message}</p>}
      {data && (
        <div className="scroll">
          <table className="compact">
            <thead>
              <tr>
                <th>{t("route")}</th><th>{t("target")}</th><th>{t("state")}</th><th>{t("runs")}</th><th>{t("failureRate")}</th>
                <th>p50 / p95</th><th>{t("lastError")}</th>{canAct && <th><span className="sr-only">{t("actions")}</span></th>}
              </tr>
            </thead>
            <tbody>
              {data.routes.map((r) => (
                <tr key={`${r.event_pattern}|${r.handler_name}`} data-testid="route-row" data-handler={r.handler_name}>
                  <td className="mono">{r.event_pattern} → {r.handler_name}</td>
                  <td>{targetOf(r, t)}</td>
                  <td><span className={`badge badge-${stateOf(r)}`} data-state={stateOf(r)}>{t(`route_${stateOf(r)}`)}</span></td>
                  <td>{r.runs}{r.deferred > 0 && <span className="muted"> ({t("deferredN", { n: r.deferred })})</span>}</td>
                  <td>{r.runs ? `${Math.round((r.failures / r.runs) * 1000) / 10} %` : "—"}</td>
                  <td className="nowrap">{r.p50_ms === null ? "—" : `${formatDuration(r.p50_ms)} / ${formatDuration(r.p95_ms ?? 0)}`}</td>
                  <td className={r.last_error ? "error-text" : undefined}>{r.last_error ? `${r.last_error} (${relativeTime(r.last_error_at!, lang)})` : "—"}</td>
                  {canAct && (
                    <td>
                      {r.is_active && !r.retired_at && (
                        <button type="button" data-testid="toggle-route" disabled={busy === `${r.event_pattern}|${r.handler_name}`} onClick={() => toggle(r)}
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
        </div>
      )}
    </section>
  );
}

const stateOf = (r: RouteRow) => (r.retired_at ? "retired" : !r.is_active ? "off" : r.paused_at ? "paused" : "active");

function targetOf(r: RouteRow, t: T): string {
  if (r.target_kind === "function") return t("targetFunction", { name: r.target ?? "" });
  if (r.target_kind === "url") return r.target ?? "";
  return t("targetCode");
}
