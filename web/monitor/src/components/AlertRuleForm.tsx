/**
 * A new alert rule. The kind decides which fields apply (an event type and a store for dead
 * letters and lag; a route's handler for a failure rate or a failing endpoint; a window for
 * what is counted over one), and what the threshold means. The server's refusal names its
 * field: the message is shown under that field, which is marked invalid and focused.
 */
import { type FormEvent, useId, useState } from "react";
import { api, ApiError } from "../api.ts";
import { useI18n } from "../i18n.tsx";
import { ALERT_KINDS as KINDS, ROUTE_ALERT_KINDS } from "../../../../src/bus/vocabulary.ts";
import type { AlertKind, Me } from "../types.ts";

const PER_ROUTE: readonly AlertKind[] = ROUTE_ALERT_KINDS;
const WINDOWED: readonly AlertKind[] = ["dead_letters", "failure_rate"];

type Draft = { name: string; kind: AlertKind; threshold: string; event_type: string; tenant_id: string; handler_name: string; window_minutes: string; repeat_minutes: string };
const EMPTY: Draft = { name: "", kind: "dead_letters", threshold: "0", event_type: "", tenant_id: "", handler_name: "", window_minutes: "15", repeat_minutes: "240" };

/** The request for a draft: only the fields its kind takes, numbers as numbers. */
function requestOf(d: Draft): Record<string, unknown> {
  const perRoute = PER_ROUTE.includes(d.kind);
  const text = (v: string) => v.trim() || undefined;
  return {
    op: "create", name: d.name.trim(), kind: d.kind, threshold: Number(d.threshold),
    event_type: perRoute ? undefined : text(d.event_type),
    tenant_id: perRoute ? undefined : text(d.tenant_id),
    handler_name: perRoute ? text(d.handler_name) : undefined,
    window_minutes: WINDOWED.includes(d.kind) ? Number(d.window_minutes) : undefined,
    repeat_minutes: Number(d.repeat_minutes),
  };
}

export function AlertRuleForm({ me, onCreated }: { me: Me; onCreated: () => void }) {
  const { t } = useI18n();
  const id = useId();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const perRoute = PER_ROUTE.includes(draft.kind);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const { rule } = await api.changeAlert(requestOf(draft));
      setDone(t("alertCreated", { name: rule.name }));
      setDraft(EMPTY);
      onCreated();
    } catch (err) {
      const failure = err as ApiError;
      setError(failure);
      // After React has marked it invalid: the field at fault, else the form's message.
      setTimeout(() => form.querySelector<HTMLElement>(`[name="${failure.field ?? ""}"]`)?.focus());
    } finally {
      setBusy(false);
    }
  };

  /** A labelled input bound to the draft, carrying the server's message when it is the field at fault. */
  const field = (name: keyof Draft, label: string, input: Record<string, unknown> = {}, hint?: string) => {
    const invalid = error?.field === name;
    const described = [hint && `${id}-${name}-hint`, invalid && `${id}-${name}-error`].filter(Boolean).join(" ") || undefined;
    return (
      <label className="field">
        {label}
        <input name={name} value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
          aria-invalid={invalid || undefined} aria-describedby={described} autoComplete="off" spellCheck={false} {...input} />
        {hint && <small id={`${id}-${name}-hint`} className="hint">{hint}</small>}
        {invalid && <small id={`${id}-${name}-error`} className="error">{error!.message}</small>}
      </label>
    );
  };

  return (
    <form className="alert-form" onSubmit={submit} data-testid="alert-form" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t("alertNewRule")}</h3>
      <div className="filter-row">
        {field("name", t("alertName"), { required: true, maxLength: 200 })}
        <label className="field">
          {t("alertKind")}
          <select name="kind" value={draft.kind} onChange={(e) => setDraft({ ...draft, kind: e.target.value as AlertKind })}>
            {KINDS.map((k) => <option key={k} value={k}>{t(`kind_${k}`)}</option>)}
          </select>
        </label>
        {field("threshold", t(`threshold_${draft.kind}`), { type: "number", min: 0, max: draft.kind === "failure_rate" ? 100 : undefined, step: "any", required: true })}
        {perRoute
          ? field("handler_name", t("alertHandler"), { required: true, placeholder: "fintech.create_escrow" }, t("alertHandlerHint"))
          : field("event_type", t("alertEventType"), { placeholder: "order.created" })}
        {!perRoute && (
          <label className="field">
            {t("alertStore")}
            <select name="tenant_id" value={draft.tenant_id} onChange={(e) => setDraft({ ...draft, tenant_id: e.target.value })}>
              <option value="">{t("alertWholeBus")}</option>
              {me.tenants.map((s) => <option key={s.id} value={s.id}>{s.name ?? s.id}</option>)}
            </select>
          </label>
        )}
        {WINDOWED.includes(draft.kind) && field("window_minutes", t("alertWindow"), { type: "number", min: 1, max: 10_080, step: 1, required: true })}
        {field("repeat_minutes", t("alertRepeat"), { type: "number", min: 0, max: 10_080, step: 1, required: true })}
        <div className="filter-buttons">
          <button type="submit" className="primary" disabled={busy} data-testid="create-alert">{t("alertCreate")}</button>
        </div>
      </div>
      {error && !["name", "threshold", "handler_name", "event_type", "window_minutes", "repeat_minutes"].includes(error.field ?? "") &&
        <p className="error" role="alert">{error.message}</p>}
      {done && <p className="ok" role="status">{done}</p>}
    </form>
  );
}
