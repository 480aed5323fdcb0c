/** The page's language: English or French, chosen in the header, kept in the URL (?lang=fr). */
import { createContext, type ReactNode, useContext } from "react";
import { type Lang, STRINGS, type StringKey } from "./strings.ts";
import { useUrlParams } from "./url-state.ts";

type Translate = (key: StringKey, vars?: Record<string, string | number>) => string;
const I18n = createContext<{ lang: Lang; t: Translate; setLang: (lang: Lang) => void } | undefined>(undefined);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [params, setParams] = useUrlParams();
  const lang: Lang = params.get("lang") === "fr" ? "fr" : "en";
  const t: Translate = (key, vars = {}) =>
    STRINGS[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ""));
  const setLang = (next: Lang) => setParams({ lang: next === "en" ? undefined : next }, { replace: true });
  document.documentElement.lang = lang;
  return <I18n.Provider value={{ lang, t, setLang }}>{children}</I18n.Provider>;
}

export function useI18n() {
  const value = useContext(I18n);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
