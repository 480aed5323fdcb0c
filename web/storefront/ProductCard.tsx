/** One product: price, the stock shown, and its quantity input bounded by that stock. */
import type { Product } from "./api.ts";
import { FieldMessage, invalidProps } from "./FieldMessage.tsx";
import { useI18n } from "./i18n.tsx";
import { maxQuantity, type Problem } from "./quantity.ts";

interface Props {
  product: Product;
  currency: string;
  typed: string | undefined;
  problem?: Problem;
  onChange: (typed: string) => void;
}

export function ProductCard({ product: p, currency, typed, problem, onChange }: Props) {
  const { t, money } = useI18n();
  const messageId = `qty-msg-${p.id}`;
  const stock = p.allow_backorder ? t("toOrder") : p.stock > 0 ? t("inStock", { n: p.stock }) : t("soldOut");
  return (
    <article className="product" data-product={p.name}>
      <h3>{p.name}</h3>
      <p className="price">{money(p.price_minor, currency)}</p>
      <p className="stock" data-stock={p.stock}>{stock}</p>
      <label>
        {t("quantity")}
        <input type="number" inputMode="numeric" min={0} max={maxQuantity(p)} step={1} value={typed ?? ""} placeholder="0"
          aria-label={t("quantityOf", { name: p.name })} {...invalidProps(messageId, problem)}
          onChange={(e) => onChange(e.target.value)} />
      </label>
      <FieldMessage id={messageId} problem={problem} />
    </article>
  );
}
