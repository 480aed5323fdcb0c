/**
 * The tables of the stats and queue views: success rate per type, the retry queue (each
 * failed event's attempts counted against its real policy: its failing handler's route's
 * max_attempts, or the bus's default). On a phone each row is a card.
 */
import { formatNumber, formatPercent, relativeTime, shortId } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";
import { setUrlParams } from "../url-state.ts";
import { Scroll } from "./Scroll.tsx";

export function SuccessRate({ rows }: { rows: Stats["success_rate"] }) {
  const { t, lang } = useI18n();
  if (rows.length === 0) return <p className="empty">{t("nothing")}</p>;
  return (
    <Scroll label={t("successRate")}>
      <table className="compact cards" data-testid="success-rate">
        <thead><tr><th>{t("type")}</th><th>{t("rate")}</th><th>{t("total")}</th><th>{t("failed")}</th><th>{t("dead")}</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.event_type} data-testid="success-rate-row" data-type={r.event_type}>
              <td className="mono card-title">
                <a href={`?type=${r.event_type}`} onClick={(e) => (e.preventDefault(), setUrlParams({ type: r.event_type, view: undefined, cursor: undefined }))}>{r.event_type}</a>
              </td>
              <td data-label={t("rate")} data-testid="rate">
                {r.rate === null ? "—" : (
                  <span className="rate"><span className="rate-bar" style={{ width: `${Math.round(r.rate * 100)}%` }} /><span className="rate-text">{formatPercent(r.rate, lang)}</span></span>
                )}
              </td>
              <td data-label={t("total")}>{formatNumber(r.total, lang)}</td>
              <td data-label={t("failed")}>{formatNumber(r.failed, lang)}</td>
              <td data-label={t("dead")}>{formatNumber(r.dead, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}

/** The failed events by next try; each row's link opens the event (keyboard: Tab, Enter). */
export function RetryQueue({ queue }: { queue: Stats["retry_queue"] }) {
  const { t, lang } = useI18n();
  const open = (id: string) => setUrlParams({ event: id, view: undefined });
  const n = (v: number) => formatNumber(v, lang);
  return (
    <>
      <p data-testid="queue-counts">{t("queueCounts", { failed: n(queue.failed), pending: n(queue.pending), processing: n(queue.processing), dead: n(queue.dead) })}</p>
      {queue.next.length === 0 ? <p className="empty">{t("nothing")}</p> : (
        <Scroll label={t("retryQueue")}>
          <table className="compact cards" data-testid="retry-queue">
            <thead><tr><th>{t("event")}</th><th>{t("nextRetry")}</th><th>{t("attempt")}</th><th>{t("error")}</th></tr></thead>
            <tbody>
              {queue.next.map((e) => (
                <tr key={e.id} onClick={() => open(e.id)} className="clickable" data-testid="queue-row" data-id={e.id}>
                  <td className="mono card-title">
                    <a href={`?event=${e.id}`} onClick={(ev) => (ev.preventDefault(), ev.stopPropagation(), open(e.id))}>{e.event_type} · {shortId(e.id)}</a>
                  </td>
                  <td data-label={t("nextRetry")}>{e.next_retry_at ? relativeTime(e.next_retry_at, lang) : "—"}</td>
                  <td data-label={t("attempt")} data-testid="attempts-used">
                    {t("attemptsUsed", { used: n(e.attempts_used), max: n(e.attempts_allowed) })}
                    {e.policy_handler && (
                      <div className="muted small">
                        {e.policy_route ? t("policyRoute", { handler: e.policy_handler, route: e.policy_route }) : t("policyDefault", { handler: e.policy_handler })}
                      </div>
                    )}
                  </td>
                  <td data-label={t("error")} className="error-cell" title={e.error_message ?? ""}>{e.error_message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </>
  );
}
