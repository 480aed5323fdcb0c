/**
 * Prometheus' text exposition format (version 0.0.4), written: families of samples, each
 * family's HELP and TYPE once, before its samples; label values and help text escaped.
 */
export type MetricType = "counter" | "gauge" | "histogram";

export interface Sample {
  /** The family's name, or it plus a histogram's _bucket / _sum / _count suffix. */
  name: string;
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeLabel = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatSample(sample: Sample): string {
  const labels = Object.entries(sample.labels ?? {});
  const set = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}` : "";
  return `${sample.name}${set} ${formatValue(sample.value)}`;
}

export function formatFamilies(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) lines.push(formatSample(sample));
  }
  return lines.join("\n") + "\n";
}

/** A scrape's answer: the families in the text format, never cached by a proxy. */
export function prometheusResponse(families: MetricFamily[]): Response {
  return new Response(formatFamilies(families), {
    headers: { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" },
  });
}

/**
 * A histogram family from per-bucket counts (not cumulative) by series: the cumulative
 * _bucket samples (every bound, +Inf last), _sum and _count, as Prometheus wants them.
 */
export function histogramFamily(
  name: string, help: string, bounds: readonly number[],
  series: { labels: Record<string, string>; counts: ReadonlyMap<number, number>; sum: number }[],
): MetricFamily {
  const samples: Sample[] = [];
  for (const { labels, counts, sum } of series) {
    let cumulative = 0;
    for (const le of [...bounds, Infinity]) {
      cumulative += counts.get(le) ?? 0;
      samples.push({ name: `${name}_bucket`, labels: { ...labels, le: formatValue(le) }, value: cumulative });
    }
    samples.push({ name: `${name}_sum`, labels, value: sum }, { name: `${name}_count`, labels, value: cumulative });
  }
  return { name, help, type: "histogram", samples };
}
