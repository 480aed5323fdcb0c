/**
 * The page's header: a skip link to the products, the shop (one select, however many shops:
 * type a name's first letters to reach it; each shop with its cart's size), the language,
 * and the signed-in buyer's sign-out. From the top of the page, the first product is a
 * handful of Tab presses away (tests/web/storefront-keyboard.test.ts).
 */
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
      <a className="skip-link" href="#products" onClick={(e) => {
        e.preventDefault(); // the fragment is the sign-in link's: move focus without touching it
        const products = document.getElementById("products");
        products?.focus({ preventScroll: true });
        products?.scrollIntoView({ block: "start" });
      }}>{t("skipToProducts")}</a>
      <h1>{t("title")}</h1>
      <div className="tools">
        {/* Labels beside, not around, their selects: a select inside its label adds its value to its name. */}
        <span className="inline">
          <label htmlFor="shop-picker">{t("shop")}</label>
          <select id="shop-picker" className="shop-picker" value={current?.slug ?? ""} onChange={(e) => {
            const next = stores.find((s) => s.slug === e.target.value);
            if (next) onStore(next);
          }}>
            {stores.map((s) => {
              const n = cartSize(s);
              return <option key={s.id} value={s.slug}>{n > 0 ? `${s.name} (${t("inCart", { n })})` : s.name}</option>;
            })}
          </select>
        </span>
        <span className="inline">
          <label htmlFor="language-picker">{t("language")}</label>
          <select id="language-picker" value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
            <option value="en" lang="en">English</option>
            <option value="fr" lang="fr">Français</option>
          </select>
        </span>
        {signedIn && <button type="button" onClick={onSignOut}>{t("signOut")}</button>}
      </div>
    </header>
  );
}
