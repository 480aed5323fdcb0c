/** What will run when: the failed events by their next try, each opening its detail. */
import { RetryQueue } from "../components/StatTables.tsx";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";

export function QueueView({ stats }: { stats?: Stats }) {
  const { t } = useI18n();
  return (
    <section className="card">
      <h2>{t("retryQueue")}</h2>
      {stats ? <RetryQueue queue={stats.retry_queue} /> : <p>{t("loading")}</p>}
    </section>
  );
}
