/** The window's numbers in full: throughput by outcome, success rate per type, handler durations. */
import { HandlerChart, ThroughputChart } from "../components/Charts.tsx";
import { SuccessRate } from "../components/StatTables.tsx";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";

export function StatsView({ stats }: { stats?: Stats }) {
  const { t } = useI18n();
  if (!stats) return <p>{t("loading")}</p>;
  return (
    <div className="grid">
      <section className="card wide"><h2>{t("throughput")}</h2><ThroughputChart stats={stats} /></section>
      <section className="card"><h2>{t("successRate")}</h2><div className="scroll"><SuccessRate rows={stats.success_rate} /></div></section>
      <section className="card"><h2>{t("handlers")}</h2><HandlerChart rows={stats.handlers} /></section>
    </div>
  );
}
