/**
 * The two charts (recharts): throughput by outcome over time, and p50/p95 per handler, with
 * their numbers in the page's language. Each chart's axis is as wide as its longest label
 * (a handler name, a count), so no label is clipped.
 */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatDuration, formatNumber } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Stats } from "../types.ts";
import { Scroll } from "./Scroll.tsx";

export const COLOURS = { completed: "#2e7d32", failed: "#ef6c00", dead: "#c62828", in_flight: "#1565c0" } as const;
const OUTCOMES = ["completed", "failed", "dead", "in_flight"] as const;
/** About the width of a character of the axes' 11 px labels. */
const CHAR_PX = 6.6;

/** Legend labels in the text colour: the series' own colours are too light for text (contrast). */
const legendText = (value: string) => <span style={{ color: "#1c2330" }}>{value}</span>;

export function ThroughputChart({ stats }: { stats: Stats }) {
  const { t, lang } = useI18n();
  // Buckets are wider than a minute for long windows: show events per minute all the same.
  const perMinute = 60 / stats.bucket_seconds;
  const long = stats.bucket_seconds >= 3600;
  const data = stats.throughput.map((b) => ({
    time: new Date(b.bucket).toLocaleString(lang, long ? { weekday: "short", hour: "2-digit", minute: "2-digit" } : { hour: "2-digit", minute: "2-digit" }),
    ...Object.fromEntries(OUTCOMES.map((o) => [o, +(b[o] * perMinute).toFixed(2)])),
  }));
  const top = Math.max(1, ...stats.throughput.map((b) => OUTCOMES.reduce((n, o) => n + b[o] * perMinute, 0)));
  const count = (n: number) => formatNumber(n, lang);
  return (
    <ResponsiveContainer width="100%" height={240}>
      <BarChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="time" fontSize={11} minTickGap={24} />
        <YAxis fontSize={11} allowDecimals tickFormatter={count} width={Math.ceil(count(Math.ceil(top)).length * CHAR_PX) + 16} />
        <Tooltip formatter={(value) => count(Number(value))} />
        <Legend formatter={legendText} />
        {OUTCOMES.map((o) => <Bar key={o} dataKey={o} name={t(o)} stackId="outcome" fill={COLOURS[o]} isAnimationActive={false} />)}
      </BarChart>
    </ResponsiveContainer>
  );
}

export function HandlerChart({ rows }: { rows: Stats["handlers"] }) {
  const { t, lang } = useI18n();
  if (rows.length === 0) return <p className="empty">{t("nothing")}</p>;
  const duration = (ms: number) => formatDuration(ms, lang);
  const labelWidth = Math.min(280, Math.ceil(Math.max(...rows.map((r) => r.handler_name.length)) * CHAR_PX) + 12);
  return (
    <>
      <ResponsiveContainer width="100%" height={Math.max(120, rows.length * 28 + 40)}>
        <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 0, left: 4 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" fontSize={11} tickFormatter={duration} allowDecimals={false} />
          <YAxis type="category" dataKey="handler_name" width={labelWidth} fontSize={11} interval={0} />
          <Tooltip formatter={(value) => duration(Number(value))} />
          <Legend formatter={legendText} />
          <Bar dataKey="p50_ms" name="p50" fill="#5c6bc0" isAnimationActive={false} />
          <Bar dataKey="p95_ms" name="p95" fill="#283593" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
      <Scroll label={t("handlers")}>
        <table className="compact cards" data-testid="handler-table">
          <thead><tr><th>{t("handler")}</th><th>{t("runs")}</th><th>{t("failures")}</th><th>p50</th><th>p95</th></tr></thead>
          <tbody>
            {rows.map((h) => (
              <tr key={h.handler_name}>
                <td className="mono card-title">{h.handler_name}</td>
                <td data-label={t("runs")}>{formatNumber(h.runs, lang)}</td>
                <td data-label={t("failures")}>{formatNumber(h.failures, lang)}</td>
                <td data-label="p50">{duration(h.p50_ms)}</td>
                <td data-label="p95">{duration(h.p95_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </>
  );
}
