/**
 * The page's first line, for operators: the bus's health verdict (healthy, degraded, down)
 * and why, the lag (how long the oldest due event has waited) and the throughput (handler
 * runs that succeeded per minute, the last minute against the hour, with its trend and a
 * sparkline of the hour). GET /event-monitor/health, polled on its own; what each reason
 * means: docs/observability.md ("Health"). A landmark with a name, not a live region: it is
 * polled every few seconds and must not be read out each time.
 */
import { formatDuration } from "../format.ts";
import { useI18n } from "../i18n.tsx";
import type { Health } from "../types.ts";
import { api } from "../api.ts";
import { REFRESH_MS, usePolling } from "../use-polling.ts";
import "./HealthLine.css";
import type { Lang } from "../strings.ts";

type Reason = Health["reasons"][number];
type T = ReturnType<typeof useI18n>["t"];

const seconds = (s: number, lang: Lang) => formatDuration(s * 1000, lang);

function reasonText(r: Reason, health: Health, t: T, lang: Lang): string {
  switch (r.code) {
    case "no_worker": {
      const last = r.last_worker;
      if (r.value === null || !last) return t("healthNoWorkerEver");
      // A function is named as it is deployed; the dispatcher in the page's language.
      const who = last.role !== "dispatcher" ? last.role : last.host ? t("healthWhoDispatcherOn", { host: last.host }) : t("healthWhoDispatcher");
      return t(last.stopped ? "healthNoWorkerStopped" : "healthNoWorkerFor", { who, d: seconds(r.value, lang) });
    }
    case "lag":
      return t("healthLagOver", { d: seconds(r.value ?? 0, lang), bound: seconds(r.threshold ?? 0, lang) });
    case "dead_letters_rising":
      return t("healthDeadRising", { n: r.value ?? 0, p: r.threshold ?? 0, m: Math.round(health.dead_letters.window_seconds / 60) });
    case "endpoint_failing":
      return t("healthEndpointFailing", { handlers: (r.handlers ?? []).join(", ") });
  }
}

/** The hour's runs per minute as a line, oldest on the left (decorative: the numbers are in the text). */
function Sparkline({ values }: { values: number[] }) {
  const max = Math.max(1, ...values);
  const step = 90 / Math.max(1, values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(17 - (v / max) * 15).toFixed(1)}`).join(" ");
  return (
    <svg className="health-spark" viewBox="0 0 90 18" width="90" height="18" aria-hidden="true" focusable="false">
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

export function HealthLine({ live }: { live: boolean }) {
  const { t, lang } = useI18n();
  const { data: health, error } = usePolling((signal) => api.health(signal), "health", REFRESH_MS, live);
  if (!health) {
    return error
      ? <section className="health-line" aria-label={t("healthTitle")} data-testid="health"><span>{t("healthUnavailable", { message: error.message })}</span></section>
      : null;
  }
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  const perMinute = health.throughput.per_minute;
  const average = perMinute.length ? perMinute.reduce((a, b) => a + b, 0) / perMinute.length : 0;
  return (
    <section className={`health-line health-${health.status}`} aria-label={t("healthTitle")} data-testid="health" data-status={health.status}>
      <h2 className="sr-only">{t("healthTitle")}</h2>
      <strong className="health-status" data-testid="health-status">{t(`health_${health.status}`)}</strong>
      {health.reasons.length > 0 && (
        <span className="health-reasons" data-testid="health-reasons">
          {health.reasons.map((r) => reasonText(r, health, t, lang)).join(" · ")}
        </span>
      )}
      <span className="health-fact" data-testid="health-lag">
        {health.lag_seconds === null ? t("healthNothingDue") : t("healthLag", { d: seconds(health.lag_seconds, lang) })}
      </span>
      <span className="health-fact" data-testid="health-throughput">
        {t("healthThroughput", { n: number.format(perMinute.at(-1) ?? 0), avg: number.format(average) })}{" "}
        {t(`healthTrend_${health.throughput.trend}`)} <Sparkline values={perMinute} />
      </span>
    </section>
  );
}
