/** The bus at a glance over a window: success rate, throughput, retry queue, dead letters, handler durations. */
import { WINDOWS } from "../filters.ts";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";
import { setUrlParams } from "../url-state.ts";
import type { PendingAction } from "./ActionDialog.tsx";
import { HandlerChart, ThroughputChart } from "./Charts.tsx";
import { DeadLetters, RetryQueue, SuccessRate } from "./StatTables.tsx";

interface Props {
  stats?: Stats;
  error?: Error;
  window: string;
  onAct?: (action: PendingAction) => void;
}

export function StatsPanel({ stats, error, window, onAct }: Props) {
  const { t } = useI18n();
  return (
    <section className="stats" data-testid="stats">
      <div className="stats-head">
        <label>
          {t("window")}{" "}
          <select value={window} onChange={(e) => setUrlParams({ window: e.target.value === "1h" ? undefined : e.target.value })}>
            {WINDOWS.map((w) => <option key={w} value={w}>{w}</option>)}
          </select>
        </label>
        {error && <span className="error">{error.message}</span>}
      </div>
      {stats && (
        <div className="grid">
          <div className="card wide"><h2>{t("throughput")}</h2><ThroughputChart stats={stats} /></div>
          <div className="card"><h2>{t("successRate")}</h2><SuccessRate rows={stats.success_rate} /></div>
          <div className="card"><h2>{t("retryQueue")}</h2><RetryQueue queue={stats.retry_queue} /></div>
          <div className="card"><h2>{t("deadLetters")}</h2><DeadLetters rows={stats.dead_letters} onAct={onAct} /></div>
          <div className="card"><h2>{t("handlers")}</h2><HandlerChart rows={stats.handlers} /></div>
        </div>
      )}
    </section>
  );
}
