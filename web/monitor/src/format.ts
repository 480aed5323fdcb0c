/** Values as an operator reads them: durations in words, attempts in a sentence, times in the page's language. */
import type { Lang, StringKey } from "./strings.ts";
import type { EventRow } from "./types.ts";

type T = (key: StringKey, vars?: Record<string, string | number>) => string;

/** 140094 -> "2 min 20 s"; 850 -> "850 ms"; 3_900_000 -> "1 h 5 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
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
  const runs = t(e.attempt === 1 ? "ranOnce" : "ranTimes", { n: e.attempt });
  if (e.status === "failed" && e.next_retry_at) return `${runs} · ${t("nextTry", { when: relativeTime(e.next_retry_at, lang) })}`;
  if (e.status === "dead") return `${runs} · ${t("noRetriesLeft")}`;
  return runs;
}

/** An 8-character id, as the list shows it and the search takes it. */
export const shortId = (id: string) => id.slice(0, 8);
