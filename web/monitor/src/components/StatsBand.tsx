/** The bus at a glance, in one compact band above the list: the window's outcomes and what waits now. */
import { WINDOWS } from "../filters.ts";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";
import { setUrlParams } from "../url-state.ts";

export function StatsBand({ stats, error, window }: { stats?: Stats; error?: Error; window: string }) {
  const { t } = useI18n();
  const sum = (key: "total" | "completed" | "failed" | "dead") => stats?.success_rate.reduce((n, r) => n + r[key], 0) ?? 0;
  const finished = sum("completed") + sum("failed") + sum("dead");
  const rate = finished ? `${Math.round((sum("completed") / finished) * 1000) / 10} %` : "—";
  const q = stats?.retry_queue;
  const tiles: [string, string | number, string?][] = [
    [t("bandEmitted", { window }), stats ? sum("total") : "…"],
    [t("rate"), stats ? rate : "…"],
    [t("bandFailed"), q?.failed ?? "…", "failed"],
    [t("bandDead"), q?.dead ?? "…", "dead"],
    [t("bandWaiting"), q ? q.pending + q.processing : "…"],
  ];
  return (
    <section className="band" aria-label={t("bandLabel")} data-testid="stats">
      <label className="band-window">
        {t("window")}{" "}
        <select value={window} onChange={(e) => setUrlParams({ window: e.target.value === "1h" ? undefined : e.target.value })}>
          {WINDOWS.map((w) => <option key={w} value={w}>{w}</option>)}
        </select>
      </label>
      <dl className="tiles">
        {tiles.map(([label, value, status]) => (
          <div key={label} className={status ? `tile tile-${status}` : "tile"}>
            <dt>{label}</dt>
            <dd>{status && typeof value === "number" && value > 0
              ? <a href={`?status=${status}`} onClick={(e) => (e.preventDefault(), setUrlParams({ status, view: undefined, cursor: undefined, event: undefined }))}>{value}</a>
              : value}</dd>
          </div>
        ))}
      </dl>
      {error && <span className="error">{error.message}</span>}
    </section>
  );
}
