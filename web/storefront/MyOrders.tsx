/** A signed-in buyer's orders, newest first (my-orders reads them as the buyer, under RLS); one opens in the tracker. */
import { useEffect, useState } from "react";
import { FunctionError } from "../shared/supabase.ts";
import { api, type MyOrder } from "./api.ts";
import { useI18n } from "./i18n.tsx";
import { statusWord } from "./order-words.ts";

interface Props {
  token: string;
  /** Changes when the list may have changed (an order placed, or the open order moved on). */
  refresh: string;
  onOpen: (order: MyOrder) => void;
  onSignedOut: () => void;
}

export function MyOrders({ token, refresh, onOpen, onSignedOut }: Props) {
  const { t, money, lang } = useI18n();
  const [orders, setOrders] = useState<MyOrder[]>();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let alive = true;
    api.myOrders(token).then((o) => {
      if (!alive) return;
      setOrders(o);
      setFailed(false);
    }).catch((e) => {
      if (!alive) return;
      if (e instanceof FunctionError && e.status === 401) onSignedOut(); // expired: back to a guest
      else setFailed(true);
    });
    return () => {
      alive = false;
    };
  }, [token, refresh, onSignedOut]);

  const date = (iso: string) => new Date(iso).toLocaleDateString(lang === "fr" ? "fr-FR" : "en-US", { day: "numeric", month: "short", year: "numeric" });
  return (
    <section className="my-orders" aria-labelledby="my-orders-title">
      <h2 id="my-orders-title">{t("myOrders")}</h2>
      {failed && <p role="alert" className="field-error">{t("ordersFailed")}</p>}
      {!orders && !failed && <p>{t("loading")}</p>}
      {orders?.length === 0 && <p>{t("noOrders")}</p>}
      {orders && orders.length > 0 && (
        <ul>
          {orders.map((o) => (
            <li key={o.id} data-my-order={o.order_number}>
              <button type="button" className="link" aria-label={t("viewOrder", { number: o.order_number })} onClick={() => onOpen(o)}>
                {o.order_number}
              </button>
              <span>{o.store_name}</span>
              <span>{date(o.created_at)}</span>
              <span>{money(o.total_minor, o.currency)}</span>
              <span className="my-status" data-status={o.status}>{t(statusWord(o.status))}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
