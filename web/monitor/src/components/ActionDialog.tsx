/**
 * Confirms an action on one event, sends it, and says what really came of it: after a
 * retry it watches the event until its next attempt has run (completed, failed again, dead
 * again), rather than saying "Done" when the request was accepted. The action id is made
 * when the dialog opens: a second click, or a retried request, is the same action.
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../api.ts";
import { relativeTime, shortId } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { ActionResult, Detail } from "../types.ts";
import { Dialog } from "./Dialog.tsx";

export type PendingAction =
  | { kind: "retry"; event_id: string; attempt: number }
  | { kind: "discard"; event_id: string }
  | { kind: "replay"; event_id: string; handler_name: string; owed: string[] };

/** How long the dialog waits to see a retried event run before saying it is queued. */
const WATCH_MS = 30_000;

export function ActionDialog({ action, onClose, onDone }: { action: PendingAction; onClose: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const actionId = useMemo(() => crypto.randomUUID(), [action]);
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<ActionResult | undefined>();
  const [error, setError] = useState<string | undefined>();
  const others = action.kind === "replay" ? action.owed.filter((h) => h !== action.handler_name) : [];

  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const body = action.kind === "replay"
        ? { kind: "replay", event_id: action.event_id, handler_name: action.handler_name, include_owed: others.length > 0 }
        : action.kind === "discard" ? { kind: "discard", event_id: action.event_id, reason: reason.trim() }
        : { kind: "retry", event_id: action.event_id };
      setResult(await api.act({ ...body, action_id: actionId }));
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const id = shortId(action.event_id);
  const [title, question] = action.kind === "retry"
    ? [t("retryTitle"), t("confirmRetry", { id })]
    : action.kind === "discard" ? [t("discardTitle"), t("confirmDiscard", { id })]
    : [t("replayTitle"), t("confirmReplay", { handler: action.handler_name })];
  const needsReason = action.kind === "discard" && !reason.trim();

  return (
    <Dialog title={title} onClose={onClose} testId="confirm">
      <p>{question}</p>
      {others.length > 0 && <p className="warning">{t("alsoOwed", { handlers: others.join(", ") })}</p>}
      {action.kind === "discard" && !result && (
        <label className="field">
          {t("reason")}
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required data-testid="reason" data-autofocus />
        </label>
      )}
      {error && <p className="error" role="alert" data-testid="action-error">{error}</p>}
      <div role="status" aria-live="polite">
        {result && (action.kind === "retry" && result.changed && !result.duplicate
          ? <RetryOutcome eventId={action.event_id} attemptBefore={action.attempt} onSeen={onDone} />
          : <p className="ok" data-testid="action-result">{describe(result, t)}</p>)}
      </div>
      <div className="dialog-buttons">
        {!result && (
          <button type="button" className="primary" disabled={busy || needsReason} onClick={send} data-testid="confirm-yes" data-autofocus={action.kind !== "discard" || undefined}>
            {t("confirm")}
          </button>
        )}
        <button type="button" onClick={onClose}>{result ? t("close") : t("cancel")}</button>
      </div>
    </Dialog>
  );
}

/** Watches a retried event until its next attempt has run, then says how it went. */
function RetryOutcome({ eventId, attemptBefore, onSeen }: { eventId: string; attemptBefore: number; onSeen: () => void }) {
  const { t, lang } = useI18n();
  const [detail, setDetail] = useState<Detail | undefined>();
  const [gaveUp, setGaveUp] = useState(false);
  useEffect(() => {
    let stop = false;
    const started = Date.now();
    const look = async () => {
      while (!stop) {
        const d = await api.event(eventId).catch(() => undefined);
        if (d && d.event.attempt > attemptBefore && d.event.status !== "processing") {
          setDetail(d);
          onSeen();
          return;
        }
        if (Date.now() - started > WATCH_MS) return setGaveUp(true);
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void look();
    return () => {
      stop = true;
    };
  }, [eventId, attemptBefore]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!detail) return <p data-testid="action-result" data-outcome={gaveUp ? "queued" : "waiting"}>{t(gaveUp ? "retryQueued" : "retryWaiting")}</p>;
  const e = detail.event;
  if (e.status === "completed") return <p className="ok" data-testid="action-result" data-outcome="completed">{t("retryCompleted")}</p>;
  const error = e.error_message ?? "";
  return (
    <p className="error" data-testid="action-result" data-outcome={e.status}>
      {e.status === "dead"
        ? t(error.startsWith("not retriable") ? "retryRefusedAgain" : "retryDeadAgain", { error })
        : t("retryFailedAgain", { error, when: e.next_retry_at ? relativeTime(e.next_retry_at, lang) : "—" })}
    </p>
  );
}

function describe(r: ActionResult, t: ReturnType<typeof useI18n>["t"]): string {
  if (!r.changed) return t("noChange", { status: r.status ? t(r.status) : "" });
  if (r.kind === "discard") return t("discardedDone");
  return r.will_run ? t("willRun", { handlers: r.will_run.join(", ") }) : t("queuedDone");
}
