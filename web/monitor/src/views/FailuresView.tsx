/**
 * Failures grouped by what went wrong: the failed and dead events by the fingerprint of
 * their error (ids, numbers and quoted values stripped, by the database), with counts,
 * first and last seen, a sample; re-drive or retry a whole group, or list its events.
 */
import { api } from "../api.ts";
import type { PendingBulk } from "../components/BulkDialog.tsx";
import { Scroll } from "../components/Scroll.tsx";
import { formatNumber, relativeTime, shortId } from "../format.ts";
import { readFilters } from "../filters.ts";
import { useI18n } from "../i18n.tsx";
import type { FailureGroup } from "../types.ts";
import { REFRESH_MS, usePolling } from "../use-polling.ts";
import { setUrlParams, useUrlParams } from "../url-state.ts";

export function FailuresView({ live, version, onBulk }: { live: boolean; version: number; onBulk?: (bulk: PendingBulk) => void }) {
  const { t, lang } = useI18n();
  const [params] = useUrlParams();
  const { type, tenant } = readFilters(params);
  const { data, error } = usePolling((signal) => api.failures({ type, tenant }, signal), `${type}|${tenant}|${version}`, REFRESH_MS, live);
  const scope = { type, tenant };
  const bulk = (g: FailureGroup, kind: "redrive" | "retry") =>
    onBulk?.({ kind, filter: { ...scope, fp: g.fingerprint ?? undefined, status: kind === "retry" ? "failed" : undefined }, label: g.fingerprint ?? "" });
  return (
    <section className="card" data-testid="failures">
      <h2>{t("failuresTitle")}</h2>
      <p className="hint">{t("failuresHint")}</p>
      {error && <p className="error">{error.message}</p>}
      {data && data.groups.length === 0 && <p className="empty">{t("nothing")}</p>}
      {data && data.groups.length > 0 && (
        <Scroll label={t("failuresTitle")}>
          <table className="compact failures cards">
            <thead>
              <tr><th>{t("fingerprint")}</th><th>{t("dead")}</th><th>{t("failed")}</th><th>{t("seen")}</th><th><span className="sr-only">{t("actions")}</span></th></tr>
            </thead>
            <tbody>
              {data.groups.map((g) => (
                <tr key={g.fingerprint ?? ""} data-testid="failure-group">
                  <td className="card-title">
                    <div className="mono fingerprint" id={`fp-${g.sample_event_id}`}>{g.fingerprint ?? t("noMessage")}</div>
                    <div className="muted">
                      {g.event_types.join(", ")} · {t("sample")}{" "}
                      <a href={`?event=${g.sample_event_id}`} title={g.sample_error ?? ""}
                        onClick={(e) => (e.preventDefault(), setUrlParams({ event: g.sample_event_id, view: undefined }))}>{shortId(g.sample_event_id)}</a>
                    </div>
                  </td>
                  <td data-label={t("dead")}>{formatNumber(g.dead, lang)}</td>
                  <td data-label={t("failed")}>{formatNumber(g.failed, lang)}</td>
                  <td data-label={t("seen")}>{t("firstLast", { first: relativeTime(g.first_at, lang), last: relativeTime(g.last_at, lang) })}</td>
                  <td className="row-actions card-actions">
                    <a href="?" onClick={(e) => (e.preventDefault(), setUrlParams({ view: undefined, fp: g.fingerprint ?? undefined, status: "failed,dead", cursor: undefined }))}>
                      {t("showEvents")}
                    </a>
                    {onBulk && g.dead > 0 && <button type="button" data-testid="redrive-group" onClick={() => bulk(g, "redrive")} aria-describedby={`fp-${g.sample_event_id}`}>{t("redriveN", { n: formatNumber(g.dead, lang) })}</button>}
                    {onBulk && g.failed > 0 && <button type="button" onClick={() => bulk(g, "retry")} aria-describedby={`fp-${g.sample_event_id}`}>{t("retryN", { n: formatNumber(g.failed, lang) })}</button>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
