/** The two charts (recharts): throughput by outcome over time, and p50/p95 per handler. */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatDuration } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";

export const COLOURS = { completed: "#2e7d32", failed: "#ef6c00", dead: "#c62828", in_flight: "#1565c0" } as const;
const OUTCOMES = ["completed", "failed", "dead", "in_flight"] as const;

/** Legend labels in the text colour: the series' own colours are too light for text (contrast). */
const legendText = (value: string) => <span style={{ color: "#1c2330" }}>{value}</span>;

export function ThroughputChart({ stats }: { stats: Stats }) {
  const { t, lang } = useI18n();
  // Buckets are wider than a minute for long windows: show events per minute all the same.
  const perMinute = 60 / stats.bucket_seconds;
  const data = stats.throughput.map((b) => ({
    time: new Date(b.bucket).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" }),
    ...Object.fromEntries(OUTCOMES.map((o) => [o, +(b[o] * perMinute).toFixed(2)])),
  }));
  return (
    <ResponsiveContainer width="100%" height={220}>
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="time" fontSize={11} minTickGap={24} />
        <YAxis fontSize={11} allowDecimals />
        <Tooltip />
        <Legend formatter={legendText} />
        {OUTCOMES.map((o) => <Bar key={o} dataKey={o} name={t(o)} stackId="outcome" fill={COLOURS[o]} isAnimationActive={false} />)}
      </BarChart>
    </ResponsiveContainer>
  );
}

export function HandlerChart({ rows }: { rows: Stats["handlers"] }) {
  const { t } = useI18n();
  if (rows.length === 0) return <p className="empty">{t("nothing")}</p>;
  return (
    <>
      <ResponsiveContainer width="100%" height={Math.max(120, rows.length * 28 + 40)}>
        <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" fontSize={11} unit=" ms" />
          <YAxis type="category" dataKey="handler_name" width={170} fontSize={11} />
          <Tooltip />
          <Legend formatter={legendText} />
          <Bar dataKey="p50_ms" name="p50" fill="#5c6bc0" isAnimationActive={false} />
          <Bar dataKey="p95_ms" name="p95" fill="#283593" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
      <div className="scroll" tabIndex={0} role="region" aria-label={t("handlers")}>
      <table className="compact" data-testid="handler-table">
        <thead><tr><th>{t("handler")}</th><th>{t("runs")}</th><th>{t("failures")}</th><th>p50</th><th>p95</th></tr></thead>
        <tbody>
          {rows.map((h) => (
            <tr key={h.handler_name}><td className="mono">{h.handler_name}</td><td>{h.runs}</td><td>{h.failures}</td><td>{formatDuration(h.p50_ms)}</td><td>{formatDuration(h.p95_ms)}</td></tr>
          ))}
        </tbody>
      </table>
      </div>
    </>
  );
}
