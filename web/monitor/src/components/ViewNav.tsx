/** The views of the page, one click apart, kept in the URL (?view=). The events view is the default. */
import { useI18n } from "../i18n.tsx";
import { setUrlParams } from "../url-state.ts";

export const VIEWS = ["events", "story", "failures", "queue", "routes", "stats", "audit", "alerts"] as const;
/** Views only operators have (the routing, the audit trail and the alert rules are theirs to read). */
const OPERATORS_ONLY: readonly string[] = ["routes", "audit", "alerts"];
export type View = (typeof VIEWS)[number];
const LABELS = { events: "viewEvents", story: "viewStory", failures: "viewFailures", queue: "viewQueue", routes: "viewRoutes", stats: "viewStats", audit: "viewAudit", alerts: "viewAlerts" } as const;

export function ViewNav({ view, isAdmin }: { view: View; isAdmin: boolean }) {
  const { t } = useI18n();
  return (
    <nav className="views" aria-label={t("views")}>
      {VIEWS.filter((v) => isAdmin || !OPERATORS_ONLY.includes(v)).map((v) => (
        <a key={v} href={`?view=${v}`} aria-current={v === view ? "page" : undefined} data-testid={`view-${v}`}
          onClick={(e) => (e.preventDefault(), setUrlParams({ view: v === "events" ? undefined : v }))}>
          {t(LABELS[v])}
        </a>
      ))}
    </nav>
  );
}
