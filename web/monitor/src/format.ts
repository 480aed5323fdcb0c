/**
 * Values as an operator reads them, in the page's language through Intl: counts ("1,234" /
 * "1 234"), percentages ("96.7%" / "96,7 %"), durations in words ("2 min 20 s", "1.5 s" /
 * "1,5 s", "3 d" / "3 j"), times and dates, attempts in a sentence.
 */
import type { Lang, StringKey } from "./strings.ts";
import type { EventRow } from "./types.ts";

type T = (key: StringKey, vars?: Record<string, string | number>) => string;

const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(lang: Lang, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  const key = `${lang}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(lang, options)));
  return format;
}

/** 1234 -> "1,234" (en) / "1 234" (fr). */
export const formatNumber = (n: number, lang: Lang) => numberFormat(lang).format(n);

/** A ratio as a percentage with at most one decimal: 0.967 -> "96.7%" (en) / "96,7 %" (fr). */
export const formatPercent = (ratio: number, lang: Lang) => numberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(ratio);

/** The day's unit: SI has none. */
const DAY: Record<Lang, string> = { en: "d", fr: "j" };

/** 140094 -> "2 min 20 s"; 850 -> "850 ms"; 1500 -> "1.5 s" / "1,5 s"; 3_900_000 -> "1 h 5 min". */
export function formatDuration(ms: number, lang: Lang): string {
  const n = (value: number, digits = 0) => numberFormat(lang, { maximumFractionDigits: digits }).format(value);
  if (ms < 1000) return `${n(Math.round(ms))} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${n(ms / 1000, s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${n(Math.floor(h / 24))} ${DAY[lang]}`;
}

/** "in 5 min" / "5 min ago", in the page's language. */
export function relativeTime(iso: string, lang: Lang, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const format = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(seconds, "second");
  if (abs < 3600) return format.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return format.format(Math.round(seconds / 3600), "hour");
  return format.format(Math.round(seconds / 86_400), "day");
}

export const dateTime = (iso: string | null | undefined, lang: Lang) =>
  iso ? new Date(iso).toLocaleString(lang, { dateStyle: "short", timeStyle: "medium" }) : "—";
/** The list's time: the time alone for today, else the date too (short: a phone's column is narrow). */
export function listTime(iso: string, lang: Lang): string {
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString()
    ? at.toLocaleTimeString(lang)
    : at.toLocaleString(lang, { dateStyle: "short", timeStyle: "short" });
}
export const timeOf = (iso: string, lang: Lang) => new Date(iso).toLocaleTimeString(lang);

/** The attempt column: how many times it ran, and what is next ("2 attempts · next in 4 min"). */
export function attemptSummary(e: Pick<EventRow, "attempt" | "retry_count" | "max_retries" | "status" | "next_retry_at">, t: T, lang: Lang): string {
  if (e.attempt === 0) return t("notRunYet");
  const runs = t(e.attempt === 1 ? "ranOnce" : "ranTimes", { n: formatNumber(e.attempt, lang) });
  if (e.status === "failed" && e.next_retry_at) return `${runs} · ${t("nextTry", { when: relativeTime(e.next_retry_at, lang) })}`;
  if (e.status === "dead") return `${runs} · ${t("noRetriesLeft")}`;
  return runs;
}

/** An 8-character id, as the list shows it and the search takes it. */
export const shortId = (id: string) => id.slice(0, 8);

/** The stats' windows as words: "15 min", "1 h", "7 d" / "7 j". */
export function windowLabel(window: string, lang: Lang): string {
  const [, n, unit] = /^(\d+)([mhd])$/.exec(window) ?? [];
  if (!n) return window;
  return `${n} ${unit === "m" ? "min" : unit === "h" ? "h" : DAY[lang]}`;
}
