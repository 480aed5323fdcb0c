/**
 * Every attempt of an event as a timeline: when each handler run started and ended (a
 * run's row is written when it ends; it started its duration earlier), how it ended, and
 * the gaps the event waited between attempts; for a remote handler, the HTTP status and the
 * start of the answer its delivery got.
 */
import { dateTime, formatDuration, timeOf } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Detail } from "../types.ts";
import { Scroll } from "./Scroll.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

export function AttemptTimeline({ detail }: { detail: Detail }) {
  const { t, lang } = useI18n();
  const { event } = detail;
  if (detail.attempts.length === 0) {
    const why = event.status === "completed" ? "noHandlerRan" : event.status === "pending" ? "notRunYet" : "noAttempts";
    return <p className="empty" data-testid="no-attempts">{t(why)}</p>;
  }
  let previousEnd: number | undefined;
  const delivery = new Map(detail.deliveries.map((d) => [`${d.attempt}|${d.handler_name}`, d]));
  return (
    <ol className="attempts">
      {detail.timings.first_claimed_at && (
        <li className="muted">{t("claimedAt", { at: dateTime(detail.timings.first_claimed_at, lang) })}</li>
      )}
      {detail.attempts.map((a) => {
        const ends = a.handlers.map((h) => new Date(h.created_at).getTime());
        const starts = a.handlers.map((h) => new Date(h.created_at).getTime() - h.duration_ms);
        const [start, end] = [Math.min(...starts), Math.max(...ends)];
        const waited = previousEnd !== undefined ? start - previousEnd : undefined;
        previousEnd = end;
        return (
          <li key={a.attempt} data-testid="attempt">
            {waited !== undefined && waited > 0 && <p className="muted wait">{t("waitedBefore", { d: formatDuration(waited, lang) })}</p>}
            <p className="attempt-head">
              <strong>{t("attemptN", { n: a.attempt })}</strong>{" "}
              <span className="muted">{dateTime(new Date(start).toISOString(), lang)} · {formatDuration(end - start, lang)}</span>
            </p>
            <Scroll label={t("attemptN", { n: a.attempt })}>
              <table className="runs compact">
                <thead><tr><th>{t("handler")}</th><th>{t("status")}</th><th>{t("ran")}</th><th>{t("outcomeDetail")}</th></tr></thead>
                <tbody>
                  {a.handlers.map((h) => (
                    <tr key={h.handler_name} data-testid="handler-run">
                      <td className="mono nowrap">{h.handler_name}</td>
                      <td><StatusBadge status={h.status} /></td>
                      <td className="nowrap">
                        {timeOf(new Date(new Date(h.created_at).getTime() - h.duration_ms).toISOString(), lang)} → {timeOf(h.created_at, lang)}
                        {" "}({formatDuration(h.duration_ms, lang)})
                      </td>
                      <td className="error-text">
                        {h.error_message}
                        {delivery.has(`${a.attempt}|${h.handler_name}`) && <Delivery d={delivery.get(`${a.attempt}|${h.handler_name}`)!} />}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          </li>
        );
      })}
    </ol>
  );
}

/** A remote handler's delivery: the HTTP status (or none came), and what the remote answered. */
function Delivery({ d }: { d: Detail["deliveries"][number] }) {
  const { t } = useI18n();
  return (
    <div className="delivery" data-testid="delivery">
      <span className={d.status_code !== null && d.status_code < 300 ? "ok" : "error"}>
        {d.status_code === null ? t("noAnswer") : `HTTP ${d.status_code}`}
      </span>
      {d.response_excerpt && <> · <q className="mono">{d.response_excerpt}</q></>}
    </div>
  );
}
