/** The cart of the shop on screen: its total, the buyer's email and payment, and Place order. */
import { FieldMessage, invalidProps } from "./FieldMessage.tsx";
import { useI18n } from "./i18n.tsx";
import type { Problem } from "./quantity.ts";

const METHODS = ["card", "mobile_money", "cash_on_delivery"] as const;

interface Props {
  items: number;
  total: string;
  email: string;
  method: string;
  busy: boolean;
  problems: { email?: Problem; payment?: Problem; form?: Problem };
  onEmail: (email: string) => void;
  onMethod: (method: string) => void;
  onPlace: () => void;
}

export function CartPanel({ items, total, email, method, busy, problems, onEmail, onMethod, onPlace }: Props) {
  const { t, lang } = useI18n();
  const plural = new Intl.PluralRules(lang).select(items) === "one" ? "itemsOne" : "itemsMany"; // French: 0 and 1 are singular
  return (
    <aside className="checkout" aria-labelledby="cart-title">
      <h2 id="cart-title">{t("checkout")}</h2>
      <p aria-live="polite">{t(plural, { n: items })} · {t("total")} <strong data-total>{total}</strong></p>
      <p className="hint">{t("cartKept")}</p>
      <form noValidate onSubmit={(e) => { e.preventDefault(); onPlace(); }}>
        <label>
          {t("email")}
          <input type="email" autoComplete="email" value={email} placeholder={t("emailPlaceholder")} {...invalidProps("email-msg", problems.email)}
            onChange={(e) => onEmail(e.target.value)} />
        </label>
        <FieldMessage id="email-msg" problem={problems.email} />
        <label>
          {t("payment")}
          <select value={method} {...invalidProps("payment-msg", problems.payment)} onChange={(e) => onMethod(e.target.value)}>
            {METHODS.map((m) => <option key={m} value={m}>{t(m)}</option>)}
          </select>
        </label>
        <FieldMessage id="payment-msg" problem={problems.payment} />
        <button type="submit" className="primary" disabled={busy} aria-describedby={problems.form ? "form-msg" : undefined}>
          {busy ? t("placing") : t("placeOrder")}
        </button>
        <FieldMessage id="form-msg" problem={problems.form} role="alert" />
      </form>
    </aside>
  );
}
