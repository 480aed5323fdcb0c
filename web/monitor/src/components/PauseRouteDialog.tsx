/**
 * Pausing a route, confirmed: the dialog first says what will wait (the open events routed to
 * it that still owe its handler, counted by the server), asks why (the reason goes into the
 * audit trail with who paused it), then pauses it and says how many events now wait. The
 * action id is made when the dialog opens: a second click is the same action.
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../api.ts";
import { formatNumber } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { MonitorAnswers, RouteRow } from "../types.ts";
import { Dialog } from "./Dialog.tsx";

export function PauseRouteDialog({ route, onClose, onDone }: { route: RouteRow; onClose: () => void; onDone: () => void }) {
  const { t, lang } = useI18n();
  const actionId = useMemo(() => crypto.randomUUID(), [route]);
  const key = { event_pattern: route.event_pattern, handler_name: route.handler_name };
  const [waiting, setWaiting] = useState<MonitorAnswers["routeWaiting"] | undefined>();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<MonitorAnswers["setRoute"] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    api.routeWaiting(key).then(setWaiting, (e: Error) => setError(e.message));
  }, []); // eslint-disable-line react-hooks/exhaustive-deps

  const pause = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await api.setRoute({ action_id: actionId, action: "pause", ...key, reason: reason.trim() }));
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const name = `${route.event_pattern} → ${route.handler_name}`;
  const n = waiting ? formatNumber(waiting.waiting, lang) : "";
  return (
    <Dialog title={t("pauseTitle")} onClose={onClose} testId="pause-route-dialog">
      <p>{t("pauseQuestion", { route: name })}</p>
      <p data-testid="pause-waiting" data-waiting={waiting?.waiting}>
        {!waiting ? t("pauseCounting") : waiting.waiting === 0 ? t("pauseWaitsNone") : t(waiting.capped ? "pauseWaitsAtLeast" : "pauseWaits", { n })}
      </p>
      {!result && (
        <label className="field">
          {t("pauseReason")}
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required data-testid="pause-reason" data-autofocus />
        </label>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      <div role="status" aria-live="polite">
        {result && (
          <p className="ok" data-testid="pause-result">
            {result.changed ? t("pausedDone", { n: formatNumber(result.waiting ?? 0, lang) }) : t("pausedAlready")}
          </p>
        )}
      </div>
      <div className="dialog-buttons">
        {!result && (
          <button type="button" className="primary" data-testid="pause-confirm" disabled={busy || !reason.trim()} onClick={pause}>
            {t("pauseConfirm")}
          </button>
        )}
        <button type="button" onClick={onClose}>{result ? t("close") : t("cancel")}</button>
      </div>
    </Dialog>
  );
}
