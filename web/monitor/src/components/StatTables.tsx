/** The tables of the stats and queue views: success rate per type, the retry queue. */
import { relativeTime, shortId } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";
import { setUrlParams } from "../url-state.ts";

export function SuccessRate({ rows }: { rows: Stats["success_rate"] }) {
  const { t } = useI18n();
  if (rows.length === 0) return <p className="empty">{t("nothing")}</p>;
  return (
    <table className="compact" data-testid="success-rate">
      <thead><tr><th>{t("type")}</th><th>{t("total")}</th><th>{t("rate")}</th><th>{t("failed")}</th><th>{t("dead")}</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.event_type}>
            <td className="mono">
              <a href={`?type=${r.event_type}`} onClick={(e) => (e.preventDefault(), setUrlParams({ type: r.event_type, view: undefined, cursor: undefined }))}>{r.event_type}</a>
            </td>
            <td>{r.total}</td>
            <td>
              {r.rate === null ? "—" : (
                <span className="rate"><span className="rate-bar" style={{ width: `${Math.round(r.rate * 100)}%` }} /><span className="rate-text">{Math.round(r.rate * 1000) / 10} %</span></span>
              )}
            </td>
            <td>{r.failed}</td>
            <td>{r.dead}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The failed events by next try; each row's link opens the event (keyboard: Tab, Enter). */
export function RetryQueue({ queue }: { queue: Stats["retry_queue"] }) {
  const { t, lang } = useI18n();
  const open = (id: string) => setUrlParams({ event: id, view: undefined });
  return (
    <>
      <p data-testid="queue-counts">{t("queueCounts", { failed: queue.failed, pending: queue.pending, processing: queue.processing, dead: queue.dead })}</p>
      {queue.next.length === 0 ? <p className="empty">{t("nothing")}</p> : (
        <div className="scroll">
          <table className="compact" data-testid="retry-queue">
            <thead><tr><th>{t("nextRetry")}</th><th>{t("event")}</th><th>{t("attempt")}</th><th>{t("error")}</th></tr></thead>
            <tbody>
              {queue.next.map((e) => (
                <tr key={e.id} onClick={() => open(e.id)} className="clickable">
                  <td>{e.next_retry_at ? relativeTime(e.next_retry_at, lang) : "—"}</td>
                  <td className="mono">
                    <a href={`?event=${e.id}`} onClick={(ev) => (ev.preventDefault(), ev.stopPropagation(), open(e.id))}>{e.event_type} · {shortId(e.id)}</a>
                  </td>
                  <td>{t("retriesUsed", { used: e.retry_count, max: e.max_retries })}</td>
                  <td className="error-cell" title={e.error_message ?? ""}>{e.error_message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
