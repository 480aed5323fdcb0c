/**
 * The firing alert rules, above every view: each with its latest notice (what it measured and
 * when), and a link to the Alerts view. Nothing at all while no rule fires. A landmark with a
 * name, not a live region: it is polled every few seconds and must not be read out each time.
 */
import { dateTime } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Alerts } from "../types.ts";
import { setUrlParams } from "../url-state.ts";

/** A notice's message starts with its rule's name ("name: firing (…)"), which the banner shows already. */
const withoutName = (message: string, name: string) => (message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message);

export function AlertBanner({ alerts }: { alerts?: Alerts }) {
  const { t, lang } = useI18n();
  const firing = alerts?.rules.filter((r) => r.firing && r.is_active) ?? [];
  if (firing.length === 0) return null;
  return (
    <section className="alert-banner" aria-label={t("alertsBanner")} data-testid="alert-banner">
      <h2 className="sr-only">{t("alertsBanner")}</h2>
      <ul>
        {firing.map((rule) => {
          // Notices come newest first: the first of this rule is its latest.
          const latest = alerts!.notices.find((n) => n.rule_id === rule.id);
          return (
            <li key={rule.id} data-testid="firing-alert" data-rule={rule.id}>
              <strong>{rule.name}</strong>{" "}
              <span>{latest ? `${withoutName(latest.message, rule.name)} · ${dateTime(latest.created_at, lang)}` : t("alert_firing")}</span>
            </li>
          );
        })}
      </ul>
      <a href="?view=alerts" onClick={(e) => (e.preventDefault(), setUrlParams({ view: "alerts" }))}>{t("alertsBannerMore")}</a>
    </section>
  );
}
