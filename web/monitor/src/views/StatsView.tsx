/**
 * The window's numbers in full: throughput by outcome across the width, then the success
 * rate per type and the handler durations side by side on a wide screen (one column on a
 * narrow one).
 */
import { HandlerChart, ThroughputChart } from "../components/Charts.tsx";
import { SuccessRate } from "../components/StatTables.tsx";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";

export function StatsView({ stats }: { stats?: Stats }) {
  const { t } = useI18n();
  if (!stats) return <p>{t("loading")}</p>;
  return (
    <div className="charts" data-testid="charts">
      <section className="card wide" aria-labelledby="chart-throughput"><h2 id="chart-throughput">{t("throughput")}</h2><ThroughputChart stats={stats} /></section>
      <section className="card" aria-labelledby="chart-success"><h2 id="chart-success">{t("successRate")}</h2><SuccessRate rows={stats.success_rate} /></section>
      <section className="card" aria-labelledby="chart-handlers"><h2 id="chart-handlers">{t("handlers")}</h2><HandlerChart rows={stats.handlers} /></section>
    </div>
  );
}
