/** The audit trail: who did what, when, and what came of it (admins only). */
import { api } from "../api.ts";
import { REFRESH_MS } from "../use-polling.ts";
import { useI18n } from "../i18n.tsx";
import { usePolling } from "../use-polling.ts";

/** `version` changes after each action of this page, so that the trail shows it at once. */
export function AuditTrail({ live, version }: { live: boolean; version: number }) {
  const { t, lang } = useI18n();
  const { data } = usePolling(() => api.actions(), `actions|${version}`, REFRESH_MS * 2, live);
  if (!data?.actions.length) return null;
  return (
    <section className="card" data-testid="audit">
      <h2>{t("actionsAudit")}</h2>
      <table className="compact">
        <thead><tr><th>{t("when")}</th><th>{t("who")}</th><th>{t("what")}</th><th /></tr></thead>
        <tbody>
          {data.actions.map((a) => (
            <tr key={a.id}>
              <td>{new Date(a.created_at).toLocaleString(lang)}</td>
              <td>{a.actor_email}</td>
              <td className="mono">{a.kind} {JSON.stringify(a.target)}</td>
              <td className="mono">{JSON.stringify(a.result)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
