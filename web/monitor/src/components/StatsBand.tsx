/** The bus at a glance, in one compact band above the list: the window's outcomes and what waits now. */
import { WINDOWS } from "../filters.ts";
import { formatNumber, formatPercent, windowLabel } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";
import { setUrlParams } from "../url-state.ts";

export function StatsBand({ stats, error, window }: { stats?: Stats; error?: Error; window: string }) {
  const { t, lang } = useI18n();
  const sum = (key: "total" | "completed" | "failed" | "dead") => stats?.success_rate.reduce((n, r) => n + r[key], 0) ?? 0;
  const finished = sum("completed") + sum("failed") + sum("dead");
  const rate = finished ? formatPercent(sum("completed") / finished, lang) : "—";
  const q = stats?.retry_queue;
  const tiles: [string, number | string | undefined, string?][] = [
    [t("bandEmitted", { window: windowLabel(window, lang) }), stats ? sum("total") : undefined],
    [t("rate"), stats ? rate : undefined],
    [t("bandFailed"), q?.failed, "failed"],
    [t("bandDead"), q?.dead, "dead"],
    [t("bandWaiting"), q ? q.pending + q.processing : undefined],
  ];
  return (
    <section className="band" aria-label={t("bandLabel")} data-testid="stats">
      <label className="band-window">
        {t("window")}{" "}
        <select value={window} onChange={(e) => setUrlParams({ window: e.target.value === "1h" ? undefined : e.target.value })}>
          {WINDOWS.map((w) => <option key={w} value={w}>{windowLabel(w, lang)}</option>)}
        </select>
      </label>
      <dl className="tiles">
        {tiles.map(([label, value, status]) => (
          <div key={label} className={status ? `tile tile-${status}` : "tile"}>
            <dt>{label}</dt>
            <dd>{status && typeof value === "number" && value > 0
              ? <a href={`?status=${status}`} onClick={(e) => (e.preventDefault(), setUrlParams({ status, view: undefined, cursor: undefined, event: undefined }))}>{formatNumber(value, lang)}</a>
              : value === undefined ? "…" : typeof value === "number" ? formatNumber(value, lang) : value}</dd>
          </div>
        ))}
      </dl>
      {error && <span className="error">{error.message}</span>}
    </section>
  );
}
