/** The page's header: the shops (each with its cart's size), the language, and the signed-in buyer's sign-out. */
import { useI18n } from "./i18n.tsx";
import type { Store } from "./api.ts";
import type { Lang } from "./strings.ts";

interface Props {
  stores: Store[];
  current: Store | undefined;
  cartSize: (store: Store) => number;
  onStore: (store: Store) => void;
  signedIn: boolean;
  onSignOut: () => void;
}

export function Header({ stores, current, cartSize, onStore, signedIn, onSignOut }: Props) {
  const { t, lang, setLang } = useI18n();
  return (
    <header>
      <h1>{t("title")}</h1>
      <nav aria-label={t("shops")}>
        {stores.map((s) => {
          const n = cartSize(s);
          return (
            <button type="button" key={s.id} className={s.id === current?.id ? "tab active" : "tab"} aria-pressed={s.id === current?.id} onClick={() => onStore(s)}>
              {s.name}
              {n > 0 && <><span className="count" aria-hidden="true">{n}</span><span className="visually-hidden">, {t("inCart", { n })}</span></>}
            </button>
          );
        })}
      </nav>
      <div className="tools">
        <label className="inline">
          {t("language")}
          <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
            <option value="en">English</option>
            <option value="fr">Français</option>
          </select>
        </label>
        {signedIn && <button type="button" onClick={onSignOut}>{t("signOut")}</button>}
      </div>
    </header>
  );
}
