/**
 * One event: what it carried, when each attempt and each handler ran and how it ended,
 * the flow control it waits under (in words), and what an admin can do with it. On a
 * phone it replaces the list; its Back button returns there.
 */
import { useState } from "react";
import { actsOn } from "../../../../src/bus/vocabulary.ts";
import { api } from "../api.ts";
import { dateTime, formatDuration, shortId } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Detail } from "../types.ts";
import { REFRESH_MS, usePolling } from "../use-polling.ts";
import { setUrlParams } from "../url-state.ts";
import type { PendingAction } from "./ActionDialog.tsx";
import { AttemptTimeline } from "./AttemptTimeline.tsx";
import { StatusBadge } from "./StatusBadge.tsx";
import { WaitingPanel } from "./WaitingPanel.tsx";

interface Props {
  id: string;
  live: boolean;
  version: number;
  onClose: () => void;
  onAct?: (action: PendingAction) => void;
}

type T = ReturnType<typeof useI18n>["t"];

export function EventDetail({ id, live, version, onClose, onAct }: Props) {
  const { t } = useI18n();
  const { data, error } = usePolling(() => api.event(id), `${id}|${version}`, REFRESH_MS, live);
  return (
    <section className="card detail" data-testid="detail" aria-labelledby="detail-title">
      <div className="detail-head">
        <h2 id="detail-title">{t("detail")} {shortId(id)}</h2>
        <button type="button" onClick={onClose} data-testid="close-detail">
          <span className="narrow-only">← {t("backToList")}</span><span className="wide-only">{t("close")}</span>
        </button>
      </div>
      {error && <p className="error">{error.message}</p>}
      {data?.event.id === id && <DetailBody detail={data} onAct={onAct} />}
    </section>
  );
}

function DetailBody({ detail, onAct }: { detail: Detail; onAct?: Props["onAct"] }) {
  const { t, lang } = useI18n();
  const { event, timings } = detail;
  const [handler, setHandler] = useState("");
  const canReplay = actsOn("replay", event.status) && detail.owed_handlers.length > 0;
  const flow = flowSentences(detail, t, lang);
  return (
    <>
      <p className="mono">{event.event_type} · {event.id}</p>
      <p>
        <StatusBadge status={event.status} /> {event.tenant_name && <span>· {event.tenant_name}</span>}{" "}
        <a href={`?view=story&story=${event.id}`} data-testid="open-story"
          onClick={(e) => (e.preventDefault(), setUrlParams({ view: "story", story: event.id, event: undefined }))}>{t("openStory")}</a>
      </p>
      {event.error_message && <p className="error" data-testid="detail-error">{event.error_message}</p>}
      {detail.waiting && <WaitingPanel waiting={detail.waiting} />}
      {onAct && (
        <div className="actions">
          {actsOn("retry", event.status) && (
            <button type="button" className="primary" data-testid="retry" onClick={() => onAct({ kind: "retry", event_id: event.id, attempt: event.attempt })}>
              {t("retryNow")}
            </button>
          )}
          {actsOn("discard", event.status) && (
            <button type="button" data-testid="discard" onClick={() => onAct({ kind: "discard", event_id: event.id })}>{t("discard")}</button>
          )}
          {canReplay && (
            <>
              <select value={handler} onChange={(e) => setHandler(e.target.value)} data-testid="replay-handler" aria-label={t("replay")}>
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
      <dl>
        <dt>{t("timings")}</dt>
        <dd data-testid="timings">
          {t("createdAt", { at: dateTime(timings.created_at, lang) })}
          {timings.wait_ms !== null && `; ${t("firstRunAfter", { d: formatDuration(timings.wait_ms) })}`}
          {timings.total_ms !== null && `; ${t("finishedAfter", { d: formatDuration(timings.total_ms) })}`}
        </dd>
        {event.next_retry_at && event.status === "failed" && (<><dt>{t("nextRetry")}</dt><dd>{dateTime(event.next_retry_at, lang)}</dd></>)}
        {flow.length > 0 && (<><dt>{t("flow")}</dt><dd data-testid="flow">{flow.map((s) => <div key={s}>{s}</div>)}</dd></>)}
        <dt>{t("idempotencyKey")}</dt><dd className="mono">{event.idempotency_key}</dd>
        <dt>{t("aggregate")}</dt><dd className="mono">{event.aggregate_type} {event.aggregate_id}</dd>
        <dt>{t("routedTo")}</dt><dd className="mono">{detail.routed_handlers.join(", ") || "—"}</dd>
        <dt>{t("owed")}</dt><dd className="mono">{detail.owed_handlers.join(", ") || "—"}</dd>
      </dl>
      <h3>{t("attempts")}</h3>
      <AttemptTimeline detail={detail} />
      {detail.related.length > 0 && (
        <>
          <h3>{t("relatedEvents", { aggregate: `${event.aggregate_type} ${shortId(event.aggregate_id)}` })}</h3>
          <ul className="related" data-testid="related">
            {detail.related.map((r) => (
              <li key={r.id}>
                <a href={`?event=${r.id}`} onClick={(e) => (e.preventDefault(), setUrlParams({ event: r.id }))}>{r.event_type} · {shortId(r.id)}</a>{" "}
                <StatusBadge status={r.status} /> <small>{dateTime(r.created_at, lang)}</small>
              </li>
            ))}
          </ul>
        </>
      )}
      {detail.timeline.length > 0 && (
        <>
          <h3>{t("timeline")}</h3>
          <ol className="timeline" data-testid="timeline">
            {detail.timeline.map((step) => (
              <li key={step.version} className={step.event_id === event.id ? "current" : undefined}>
                <span className="mono">v{step.version}</span> {step.event_type} <StatusBadge status={step.status} />{" "}
                <small>{dateTime(step.created_at, lang)}</small>
              </li>
            ))}
          </ol>
        </>
      )}
      <h3>{t("payload")}</h3>
      <pre className="payload" data-testid="payload" tabIndex={0}>{JSON.stringify(event.payload, null, 2)}</pre>
    </>
  );
}

/** What flow control and the route's steps make the event wait for, and why, in sentences. */
function flowSentences(detail: Detail, t: T, lang: Parameters<typeof dateTime>[1]): string[] {
  const { flow } = detail;
  return [
    flow.scheduled ? t("flowScheduled", { at: dateTime(flow.deliver_at, lang) }) : "",
    flow.priority > 0 ? t("flowPriority", { p: flow.priority }) : "",
    flow.held && flow.held_behind ? t("flowHeld", { id: shortId(flow.held_behind), key: flow.ordering_key ?? "" })
      : flow.ordering_key ? t("flowInLine", { key: flow.ordering_key, seq: flow.ordering_seq ?? "?" }) : "",
    flow.waiting_behind > 0 ? t("flowWaitingBehind", { n: flow.waiting_behind }) : "",
    ...Object.entries(detail.route_steps).map(([h, after]) => t("flowStep", { handler: h, after: after.join(", ") })),
  ].filter(Boolean);
}
