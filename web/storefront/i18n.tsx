/**
 * The storefront's language: English or French, switched in the header, kept in the URL
 * (?lang=fr). Every number, price and date the page shows goes through Intl in that
 * language: the `{n}` of a sentence, money in its currency's own minor units, dates.
 */
import { createContext, type ReactNode, useContext, useEffect, useMemo } from "react";
import { useUrlParams } from "../shared/url-state.ts";
import { type Lang, STRINGS, type StringKey } from "./strings.ts";

export type Translate = (key: StringKey, vars?: Record<string, string | number>) => string;
interface I18nValue {
  lang: Lang;
  t: Translate;
  setLang: (lang: Lang) => void;
  /** An amount in minor units, as the language writes money: "F CFA 45,000", "45 000 F CFA", "€12.50". */
  money: (minor: number, currency: string) => string;
  /** A count: "1,000", "1 000". */
  number: (n: number) => string;
  /** A day: "Dec 7, 2026", "7 déc. 2026". */
  date: (iso: string) => string;
}
const I18n = createContext<I18nValue | undefined>(undefined);

const LOCALES: Record<Lang, string> = { en: "en-US", fr: "fr-FR" };

export function I18nProvider({ children }: { children: ReactNode }) {
  const [params, setParams] = useUrlParams();
  const lang: Lang = params.get("lang") === "fr" ? "fr" : "en";
  const value = useMemo<I18nValue>(() => {
    const locale = LOCALES[lang];
    const numbers = new Intl.NumberFormat(locale);
    const days = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
    const t: Translate = (key, vars = {}) =>
      STRINGS[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => {
        const v = vars[name];
        return typeof v === "number" ? numbers.format(v) : String(v ?? "");
      });
    return {
      lang,
      t,
      setLang: (next) => setParams({ lang: next === "en" ? undefined : next }, { replace: true }),
      money: (minor, currency) => moneyFormat(locale, currency).format(minor / 10 ** minorDigits(currency)),
      number: (n) => numbers.format(n),
      date: (iso) => days.format(new Date(iso)),
    };
  }, [lang, setParams]);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = value.t("title");
  }, [lang, value]);
  return <I18n.Provider value={value}>{children}</I18n.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18n);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}

const formats = new Map<string, Intl.NumberFormat>();
function moneyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}:${currency}`;
  if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(locale, { style: "currency", currency }));
  return formats.get(key)!;
}

/** How many minor units a currency has (XOF 0, EUR 2, KWD 3), as ISO 4217 and Intl say. */
export const minorDigits = (currency: string): number =>
  moneyFormat("en-US", currency).resolvedOptions().maximumFractionDigits ?? 0;
