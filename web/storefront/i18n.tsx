/** The storefront's language: English or French, switched in the header, kept in the URL (?lang=fr). */
import { createContext, type ReactNode, useContext } from "react";
import { useUrlParams } from "../shared/url-state.ts";
import { type Lang, STRINGS, type StringKey } from "./strings.ts";

export type Translate = (key: StringKey, vars?: Record<string, string | number>) => string;
interface I18nValue {
  lang: Lang;
  t: Translate;
  setLang: (lang: Lang) => void;
  /** Money in the language's digits: "45,000 XOF", "45 000 XOF". */
  money: (amount: number, currency: string) => string;
}
const I18n = createContext<I18nValue | undefined>(undefined);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [params, setParams] = useUrlParams();
  const lang: Lang = params.get("lang") === "fr" ? "fr" : "en";
  const locale = lang === "fr" ? "fr-FR" : "en-US";
  const t: Translate = (key, vars = {}) => STRINGS[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ""));
  const setLang = (next: Lang) => setParams({ lang: next === "en" ? undefined : next }, { replace: true });
  const money = (amount: number, currency: string) => `${amount.toLocaleString(locale)} ${currency}`;
  document.documentElement.lang = lang;
  return <I18n.Provider value={{ lang, t, setLang, money }}>{children}</I18n.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18n);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
