/**
 * Why one event waits, in sentences (the detail's `waiting`): until when, the event it is
 * held behind (a link, its status and error, what unblocks it), the paused routes it owes
 * (since when, by whom, why), each failed handler's attempts against its real policy.
 */
import { dateTime, relativeTime, shortId } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Detail } from "../types.ts";
import { setUrlParams } from "../url-state.ts";
import { StatusBadge } from "./StatusBadge.tsx";

export function WaitingPanel({ waiting }: { waiting: NonNullable<Detail["waiting"]> }) {
  const { t, lang } = useI18n();
  const when = (iso: string | null) => (iso ? relativeTime(iso, lang) : "—");
  return (
    <div className="waiting-panel" data-testid="waiting" data-waiting={waiting.reason}>
      <h3>{t("whyWaits")}: {t(`waiting_${waiting.reason}`)}</h3>
      {waiting.reason === "retrying" && <p>{t("waitsRetrying", { when: when(waiting.until) })}</p>}
      {waiting.retries.map((r) => (
        <p key={r.handler_name} data-testid="retry-policy">
          {t("waitsRetryOf", { handler: r.handler_name, n: r.failures, m: r.max_attempts, policy: t(r.route_policy ? "policyRoute" : "policyEvent") })}
        </p>
      ))}
      {waiting.blocker && (
        <>
          <p>
            {t("waitsHeld", { id: shortId(waiting.blocker.id), type: waiting.blocker.event_type, status: t(waiting.blocker.status) })}{" "}
            <StatusBadge status={waiting.blocker.status} />{" "}
            <a href={`?event=${waiting.blocker.id}`} data-testid="blocker-link"
              onClick={(e) => (e.preventDefault(), setUrlParams({ event: waiting.blocker!.id }))}>
              {t("openBlocker", { id: shortId(waiting.blocker.id) })}
            </a>
          </p>
          {waiting.blocker.error_message && <p className="error">{t("waitsHeldError", { error: waiting.blocker.error_message })}</p>}
          {waiting.blocker.status === "dead" && <p>{t("waitsHeldUnblock")}</p>}
        </>
      )}
      {waiting.paused_routes.map((r) => (
        <p key={`${r.event_pattern}|${r.handler_name}`} data-testid="paused-route">
          {t("waitsPaused", { pattern: r.event_pattern, handler: r.handler_name, at: dateTime(r.paused_at, lang) })}
          {r.paused_by && <> {t("waitsPausedBy", { who: r.paused_by })}</>}
          {r.reason && <> {t("waitsPausedReason", { reason: r.reason })}</>}
        </p>
      ))}
      {waiting.reason === "scheduled" && <p>{t("waitsScheduled", { at: dateTime(waiting.until, lang) })}</p>}
      {waiting.reason === "deferred" && (
        <>
          <p>{t("waitsDeferred", { when: when(waiting.until) })}</p>
          {waiting.deferred_by.map((d) => <p key={d.handler_name} className="muted">{d.handler_name}: {d.message}</p>)}
        </>
      )}
      {waiting.reason === "due" && <p>{t("waitsDue")}</p>}
    </div>
  );
}
