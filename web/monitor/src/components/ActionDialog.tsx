/**
 * Confirms an action, sends it, and shows what came of it. The action id is made when the
 * dialog opens: a second click, or a retried request, is the same action to the server.
 */
import { useMemo, useState } from "react";
import { api } from "../api.ts";
import { useI18n } from "../i18n.tsx";
import type { ActionResult } from "../types.ts";

export type PendingAction =
  | { kind: "retry"; event_id: string }
  | { kind: "redrive"; event_type: string; error: string | null }
  | { kind: "replay"; event_id: string; handler_name: string; owed: string[] };

export function ActionDialog({ action, onClose, onDone }: { action: PendingAction; onClose: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const actionId = useMemo(() => crypto.randomUUID(), [action]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ActionResult | undefined>();
  const [error, setError] = useState<string | undefined>();
  const others = action.kind === "replay" ? action.owed.filter((h) => h !== action.handler_name) : [];

  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const body = action.kind === "replay"
        ? { kind: "replay", event_id: action.event_id, handler_name: action.handler_name, include_owed: others.length > 0 }
        : action;
      setResult(await api.act({ ...body, action_id: actionId }));
      onDone();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const question = action.kind === "retry"
    ? t("confirmRetry", { id: action.event_id.slice(0, 8) })
    : action.kind === "redrive"
    ? t("confirmRedrive", { type: action.event_type, error: action.error ? t("withError") : "" })
    : t("confirmReplay", { handler: action.handler_name });

  return (
    <div className="backdrop" role="dialog" aria-modal="true" data-testid="confirm">
      <div className="dialog">
        <p>{question}</p>
        {action.kind === "redrive" && action.error && <p className="error mono">{action.error}</p>}
        {others.length > 0 && <p className="warning">{t("alsoOwed", { handlers: others.join(", ") })}</p>}
        {error && <p className="error" data-testid="action-error">{error}</p>}
        {result && <p className="ok" data-testid="action-result">{describe(result, t)}</p>}
        <div className="dialog-buttons">
          {!result && <button type="button" className="primary" disabled={busy} onClick={send} data-testid="confirm-yes">{t("confirm")}</button>}
          <button type="button" onClick={onClose}>{result ? t("close") : t("cancel")}</button>
        </div>
      </div>
    </div>
  );
}

function describe(r: ActionResult, t: ReturnType<typeof useI18n>["t"]): string {
  if (r.kind === "redrive") return `${t("done")}. ${t("redriven", { n: r.redriven ?? 0, remaining: r.remaining ?? 0 })}`;
  if (!r.changed) return t("noChange", { status: r.status ?? "" });
  return r.will_run ? `${t("done")}. ${t("willRun", { handlers: r.will_run.join(", ") })}` : t("done");
}
