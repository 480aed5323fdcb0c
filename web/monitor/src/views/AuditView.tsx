/** The audit trail in words: who did what to which events, when, and what came of it (admins only). */
import { api } from "../api.ts";
import { Scroll } from "../components/Scroll.tsx";
import { dateTime, formatNumber, shortId } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Lang } from "../strings.ts";
import type { AuditRow } from "../types.ts";
import { REFRESH_MS, usePolling } from "../use-polling.ts";

type T = ReturnType<typeof useI18n>["t"];

/** `version` changes after each action of this page, so that the trail shows it at once. */
export function AuditView({ live, version }: { live: boolean; version: number }) {
  const { t, lang } = useI18n();
  const { data } = usePolling((signal) => api.actions(signal), `actions|${version}`, REFRESH_MS * 2, live);
  return (
    <section className="card" data-testid="audit">
      <h2>{t("actionsAudit")}</h2>
      {!data ? <p>{t("loading")}</p> : data.actions.length === 0 ? <p className="empty">{t("nothing")}</p> : (
        <Scroll label={t("actionsAudit")}>
          <table className="compact cards">
            <thead><tr><th>{t("what")}</th><th>{t("when")}</th><th>{t("who")}</th><th>{t("outcome")}</th></tr></thead>
            <tbody>
              {data.actions.map((a) => (
                <tr key={a.id} data-testid="audit-row" data-kind={a.kind}>
                  <td className="card-title">{whatWasDone(a, t)}</td>
                  <td data-label={t("when")}>{dateTime(a.created_at, lang)}</td>
                  <td data-label={t("who")}>{a.actor_email ?? t("theServer")}</td>
                  <td data-label={t("outcome")}>{outcomeOf(a, t, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

function whatWasDone(a: AuditRow, t: T): string {
  const target = a.target;
  const event = str(target.event_id) ? shortId(str(target.event_id)) : "";
  switch (a.kind) {
    case "retry": return t("auditRetry", { event });
    case "discard": return t("auditDiscard", { event, reason: str(target.reason) });
    case "cancel": return t("auditCancel", { event, reason: str(target.reason) });
    case "replay": return t("auditReplay", { event, handler: str(target.handler) });
    case "pause_route": return t("auditPauseRoute", { route: `${str(target.event_pattern)} → ${str(target.handler_name)}`, reason: str(target.reason) || "—" });
    case "resume_route": return t("auditResumeRoute", { route: `${str(target.event_pattern)} → ${str(target.handler_name)}` });
    case "redrive": return t("auditRedrive", { type: str(target.event_type) }) + (target.error ? ` — ${str(target.error)}` : "");
    default: {
      const filter = Object.entries((target.filter ?? {}) as Record<string, unknown>)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`).join(" · ");
      return t("auditBulk", { kind: t(a.kind === "bulk_retry" ? "bulkRetry" : a.kind === "bulk_redrive" ? "bulkRedrive" : "bulkDiscard"), filter: filter || t("everything") });
    }
  }
}

function outcomeOf(a: AuditRow, t: T, lang: Lang): string {
  const r = a.result;
  if (!r) return "—";
  const n = (v: unknown) => formatNumber(Number(v ?? 0), lang);
  if (a.kind.startsWith("bulk_")) return t("bulkTotals", { moved: n(r.moved), unchanged: n(r.unchanged), skipped: n(r.skipped) });
  if (a.kind === "redrive") return t("redriven", { n: n(r.redriven), remaining: n(r.remaining) });
  if (a.kind.endsWith("_route")) {
    if (!r.changed) return t("nothingChanged");
    return t(r.paused ? "route_paused" : "route_active") + (typeof r.waiting === "number" ? t("auditWaiting", { n: n(r.waiting) }) : "");
  }
  if (!r.changed) return t("noChange", { status: r.status ? t(str(r.status) as "failed") : "" });
  return r.previous_status ? t("movedFromTo", { from: t(str(r.previous_status) as "failed"), to: t(str(r.status) as "failed") }) : t(str(r.status) as "failed");
}
