/**
 * The alert rules (issue 16) as an operator manages them: each rule with what it watches,
 * its threshold and its state now (firing, quiet, paused); a form for a new one; pause,
 * resume and delete; and the notices the rules wrote, newest first. The data is the page's
 * one poll of GET /alerts (App.tsx), which the banner shows too.
 */
import { useState } from "react";
import { api } from "../api.ts";
import { AlertRuleForm } from "../components/AlertRuleForm.tsx";
import { Dialog } from "../components/Dialog.tsx";
import { Scroll } from "../components/Scroll.tsx";
import { dateTime, formatNumber, relativeTime } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { AlertRule, Alerts, Me } from "../types.ts";
import type { Lang } from "../strings.ts";
import type { Polled } from "../use-polling.ts";

type T = ReturnType<typeof useI18n>["t"];

const stateOf = (r: AlertRule) => (!r.is_active ? "paused_rule" : r.firing ? "firing" : "ok");
const round = (n: number | null, lang: Lang) => (n === null ? "—" : formatNumber(Math.round(n * 100) / 100, lang));

function watches(r: AlertRule, me: Me, t: T): string {
  if (r.handler_name) return r.handler_name;
  const store = r.tenant_id ? me.tenants.find((s) => s.id === r.tenant_id)?.name ?? r.tenant_id : t("alertWholeBus");
  return `${r.event_type ?? t("alertAnyType")} · ${store}`;
}

export function AlertsView({ me, alerts }: { me: Me; alerts: Polled<Alerts> }) {
  const { t, lang } = useI18n();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [deleting, setDeleting] = useState<AlertRule | undefined>();
  const { data, error: loadError, reload } = alerts;

  const change = async (op: "pause" | "resume" | "delete", rule: AlertRule) => {
    setBusy(rule.id);
    setError(undefined);
    try {
      await api.changeAlert({ op, rule_id: rule.id });
      reload();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(undefined);
      setDeleting(undefined);
    }
  };
  const names = new Map(data?.rules.map((r) => [r.id, r.name]));

  return (
    <>
      <section className="card" data-testid="alerts">
        <h2>{t("alertsTitle")}</h2>
        <p className="hint">{t("alertsHint")}</p>
        {(error ?? loadError?.message) && <p className="error" role="alert">{error ?? loadError?.message}</p>}
        {!data ? <p>{t("loading")}</p> : data.rules.length === 0 ? <p className="empty">{t("alertNoRules")}</p> : (
          <Scroll label={t("alertsTitle")}>
            <table className="compact cards">
              <thead>
                <tr>
                  <th>{t("alertName")}</th><th className="wide-only">{t("alertKind")}</th><th>{t("alertWatches")}</th><th>{t("alertThreshold")}</th>
                  <th>{t("alertState")}</th><th>{t("alertValue")}</th><th className="wide-only">{t("alertSince")}</th><th><span className="sr-only">{t("actions")}</span></th>
                </tr>
              </thead>
              <tbody>
                {data.rules.map((r) => (
                  <tr key={r.id} data-testid="alert-rule" data-rule={r.id}>
                    <td className="wrap card-title">{r.name}</td>
                    <td className="wide-only" data-label={t("alertKind")}>{t(`kind_${r.kind}`)}</td>
                    <td className="mono wrap" data-label={t("alertWatches")}>{watches(r, me, t)}</td>
                    <td className="nowrap" data-label={t("alertThreshold")}>{t(`thresholdShort_${r.kind}`, { n: formatNumber(r.threshold, lang) })}</td>
                    <td data-label={t("alertState")}><span className={`badge badge-alert-${stateOf(r)}`} data-state={stateOf(r)}>{t(`alert_${stateOf(r)}`)}</span></td>
                    <td data-label={t("alertValue")}>{round(r.value, lang)}</td>
                    <td className="nowrap wide-only" data-label={t("alertSince")}>{r.firing && r.since ? relativeTime(r.since, lang) : "—"}</td>
                    <td className="card-actions">
                      <div className="row-actions">
                        <button type="button" disabled={busy === r.id} data-testid="toggle-alert" onClick={() => change(r.is_active ? "pause" : "resume", r)}
                          aria-label={`${r.is_active ? t("alertPauseRule") : t("alertResumeRule")}: ${r.name}`}>
                          {r.is_active ? t("alertPauseRule") : t("alertResumeRule")}
                        </button>
                        <button type="button" disabled={busy === r.id} data-testid="delete-alert" onClick={() => setDeleting(r)}
                          aria-label={`${t("alertDeleteRule")}: ${r.name}`}>
                          {t("alertDeleteRule")}
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
        <AlertRuleForm me={me} onCreated={reload} />
      </section>
      <section className="card" data-testid="alert-notices">
        <h2>{t("alertNotices")}</h2>
        {!data ? <p>{t("loading")}</p> : data.notices.length === 0 ? <p className="empty">{t("alertNoNotices")}</p> : (
          <ol className="notices">
            {data.notices.map((n) => (
              <li key={n.id} data-testid="alert-notice" data-kind={n.kind}>
                <span className={`badge badge-notice-${n.kind}`}>{t(`notice_${n.kind}`)}</span>{" "}
                <time dateTime={n.created_at}>{dateTime(n.created_at, lang)}</time>{" "}
                <strong>{names.get(n.rule_id) ?? t("alertRuleGone")}</strong>{" "}
                <span className="notice-message">{n.message}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      {deleting && (
        <Dialog title={t("alertDeleteRule")} onClose={() => setDeleting(undefined)} testId="delete-alert-dialog">
          <p>{t("alertConfirmDelete", { name: deleting.name })}</p>
          <div className="dialog-buttons">
            <button type="button" onClick={() => setDeleting(undefined)}>{t("cancel")}</button>
            <button type="button" className="primary" data-testid="confirm-delete-alert" onClick={() => change("delete", deleting)}>{t("alertDeleteRule")}</button>
          </div>
        </Dialog>
      )}
    </>
  );
}
