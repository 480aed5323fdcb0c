/** One event: what it carried, every attempt's handler runs, its timings, and what an admin can do with it. */
import { useState } from "react";
import { api } from "../api.ts";
import { REFRESH_MS } from "../use-polling.ts";
import { useI18n } from "../i18n.tsx";
import type { Detail } from "../types.ts";
import { usePolling } from "../use-polling.ts";
import type { PendingAction } from "./ActionDialog.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

interface Props {
  id: string;
  live: boolean;
  onClose: () => void;
  onAct?: (action: PendingAction) => void;
}

export function EventDetail({ id, live, onClose, onAct }: Props) {
  const { t } = useI18n();
  const { data, error } = usePolling(() => api.event(id), id, REFRESH_MS, live);
  return (
    <aside className="card detail" data-testid="detail">
      <div className="detail-head">
        <h2>{t("detail")}</h2>
        <button type="button" onClick={onClose}>{t("close")}</button>
      </div>
      {error && <p className="error">{error.message}</p>}
      {data?.event.id === id && <DetailBody detail={data} onAct={onAct} />}
    </aside>
  );
}

function DetailBody({ detail, onAct }: { detail: Detail; onAct?: Props["onAct"] }) {
  const { t, lang } = useI18n();
  const { event, timings } = detail;
  const [handler, setHandler] = useState("");
  const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang) : "—");
  const canReplay = event.status === "completed" && detail.owed_handlers.length > 0;
  return (
    <>
      <p className="mono">{event.event_type} · {event.id}</p>
      <p><StatusBadge status={event.status} /> {event.tenant_name && <span>· {event.tenant_name}</span>}</p>
      {event.error_message && <p className="error" data-testid="detail-error">{event.error_message}</p>}
      <dl>
        <dt>{t("idempotencyKey")}</dt><dd className="mono">{event.idempotency_key}</dd>
        <dt>{t("aggregate")}</dt><dd className="mono">{event.aggregate_type} {event.aggregate_id}</dd>
        <dt>{t("timings")}</dt>
        <dd data-testid="timings">
          {t("created")} {when(timings.created_at)} → {t("firstClaim")} {when(timings.first_claimed_at)} → {t("finished")} {when(timings.processed_at)}
          {timings.wait_ms !== null && ` (${t("waited", { ms: timings.wait_ms })}`}
          {timings.total_ms !== null && `, ${t("took", { ms: timings.total_ms })}`}
          {timings.wait_ms !== null && ")"}
        </dd>
        {event.next_retry_at && (<><dt>{t("nextRetry")}</dt><dd>{when(event.next_retry_at)}</dd></>)}
        {flowParts(detail.flow, t, when).length > 0 && (<><dt>{t("flow")}</dt><dd data-testid="flow">{flowParts(detail.flow, t, when).join(" · ")}</dd></>)}
        <dt>{t("routedTo")}</dt><dd className="mono">{detail.routed_handlers.join(", ") || "—"}</dd>
        <dt>{t("owed")}</dt><dd className="mono">{detail.owed_handlers.join(", ") || "—"}</dd>
        {Object.keys(detail.route_steps).length > 0 && (
          <>
            <dt>{t("steps")}</dt>
            <dd className="mono" data-testid="steps">
              {Object.entries(detail.route_steps).map(([h, after]) => t("runsAfter", { handler: h, after: after.join(", ") })).join("; ")}
            </dd>
          </>
        )}
      </dl>
      {onAct && (
        <div className="actions">
          {(event.status === "failed" || event.status === "dead") && (
            <button type="button" className="primary" data-testid="retry" onClick={() => onAct({ kind: "retry", event_id: event.id })}>
              {t("retryNow")}
            </button>
          )}
          {canReplay && (
            <>
              <select value={handler} onChange={(e) => setHandler(e.target.value)} data-testid="replay-handler">
                <option value="">{t("replay")}</option>
                {detail.owed_handlers.map((h) => <option key={h} value={h}>{h}</option>)}
              </select>
              <button type="button" disabled={!handler} data-testid="replay"
                onClick={() => onAct({ kind: "replay", event_id: event.id, handler_name: handler, owed: detail.owed_handlers })}>
                {t("replayTo", { handler: handler || "…" })}
              </button>
            </>
          )}
        </div>
      )}
      <h3>{t("attempts")}</h3>
      {detail.attempts.length === 0 && <p className="empty">{t("noAttempts")}</p>}
      {detail.attempts.map((a) => (
        <table key={a.attempt} className="runs" data-testid="attempt">
          <caption>{t("attemptN", { n: a.attempt })}</caption>
          <tbody>
            {a.handlers.map((h) => (
              <tr key={h.handler_name} data-testid="handler-run">
                <td className="mono">{h.handler_name}</td>
                <td><StatusBadge status={h.status} /></td>
                <td>{h.duration_ms} ms</td>
                <td className="error-cell">{h.error_message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {detail.timeline.length > 0 && (
        <>
          <h3>{t("timeline")}</h3>
          <ol className="timeline" data-testid="timeline">
            {detail.timeline.map((step) => (
              <li key={step.version} className={step.event_id === event.id ? "current" : undefined}>
                <span className="mono">v{step.version}</span> {step.event_type} <StatusBadge status={step.status} />{" "}
                <small>{new Date(step.created_at).toLocaleString()}</small>
              </li>
            ))}
          </ol>
        </>
      )}
      <h3>{t("payload")}</h3>
      <pre className="payload" data-testid="payload">{JSON.stringify(event.payload, null, 2)}</pre>
    </>
  );
}

/** What flow control says of the event, as short phrases (none for an event under none). */
function flowParts(flow: Detail["flow"], t: ReturnType<typeof useI18n>["t"], when: (iso: string | null) => string): string[] {
  return [
    flow.scheduled ? t("scheduledFor", { at: when(flow.deliver_at) }) : "",
    flow.priority > 0 ? t("priorityOf", { p: flow.priority }) : "",
    flow.ordering_key ? t("inLine", { key: flow.ordering_key, seq: flow.ordering_seq ?? "?" }) : "",
    flow.held && flow.held_behind ? t("heldBehind", { id: flow.held_behind.slice(0, 8) }) : "",
    flow.waiting_behind > 0 ? t("waitingBehind", { n: flow.waiting_behind }) : "",
  ].filter(Boolean);
}
