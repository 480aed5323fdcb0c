/** The tables of the stats panel: success rate per type, the retry queue, dead letters. */
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";
import { setUrlParams } from "../url-state.ts";
import type { PendingAction } from "./ActionDialog.tsx";

export function SuccessRate({ rows }: { rows: Stats["success_rate"] }) {
  const { t } = useI18n();
  if (rows.length === 0) return <p className="empty">{t("nothing")}</p>;
  return (
    <table className="compact" data-testid="success-rate">
      <thead><tr><th>{t("type")}</th><th>{t("total")}</th><th>{t("rate")}</th><th>{t("failed")}</th><th>{t("dead")}</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.event_type}>
            <td className="mono"><a href="#" onClick={(e) => (e.preventDefault(), setUrlParams({ type: r.event_type, cursor: undefined }))}>{r.event_type}</a></td>
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

export function RetryQueue({ queue }: { queue: Stats["retry_queue"] }) {
  const { t, lang } = useI18n();
  return (
    <>
      <p data-testid="queue-counts">{t("queueCounts", { failed: queue.failed, pending: queue.pending, processing: queue.processing, dead: queue.dead })}</p>
      {queue.next.length === 0 ? <p className="empty">{t("nothing")}</p> : (
        <table className="compact" data-testid="retry-queue">
          <thead><tr><th>{t("nextRetry")}</th><th>{t("type")}</th><th>{t("retries")}</th><th>{t("error")}</th></tr></thead>
          <tbody>
            {queue.next.map((e) => (
              <tr key={e.id} onClick={() => setUrlParams({ event: e.id })} className="clickable">
                <td>{new Date(e.next_retry_at!).toLocaleTimeString(lang)}</td>
                <td className="mono">{e.event_type}</td>
                <td>{e.retry_count}/{e.max_retries}</td>
                <td className="error-cell" title={e.error_message ?? ""}>{e.error_message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function DeadLetters({ rows, onAct }: { rows: Stats["dead_letters"]; onAct?: (action: PendingAction) => void }) {
  const { t, lang } = useI18n();
  if (rows.length === 0) return <p className="empty">{t("nothing")}</p>;
  return (
    <table className="compact" data-testid="dead-letters">
      <thead><tr><th>{t("type")}</th><th>{t("error")}</th><th>{t("count")}</th><th>{t("lastAt")}</th>{onAct && <th />}</tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.event_type}|${r.error}`}>
            <td className="mono">{r.event_type}</td>
            <td className="error-cell" title={r.error ?? ""}>{r.error}</td>
            <td>{r.count}</td>
            <td>{r.last_at ? new Date(r.last_at).toLocaleString(lang) : "—"}</td>
            {onAct && (
              <td><button type="button" onClick={() => onAct({ kind: "redrive", event_type: r.event_type, error: r.error })}>{t("redrive")}</button></td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
