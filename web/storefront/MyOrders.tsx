/**
 * The buyer's orders, newest first; one opens in the tracker. A signed-in buyer's come from
 * my-orders (read as the buyer, under RLS); a guest's are those placed on this device
 * (guest-orders.ts), each read by its id from order-status, and the list is not shown until
 * there is one.
 */
import { useEffect, useState } from "react";
import { FunctionError } from "../shared/supabase.ts";
import { api, type MyOrder } from "./api.ts";
import { guestOrders } from "./guest-orders.ts";
import { useI18n } from "./i18n.tsx";
import { statusWord } from "./order-words.ts";

interface Props {
  /** The signed-in buyer's token; none: a guest, whose orders are this device's. */
  token: string | undefined;
  /** Changes when the list may have changed (an order placed, or the open order moved on). */
  refresh: string;
  onOpen: (order: MyOrder) => void;
  onSignedOut: () => void;
}

export function MyOrders({ token, refresh, onOpen, onSignedOut }: Props) {
  const { t, money, date } = useI18n();
  const [orders, setOrders] = useState<MyOrder[]>();
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let alive = true;
    (token ? api.myOrders(token) : deviceOrders()).then((o) => {
      if (!alive) return;
      setOrders(o);
      setFailed(false);
    }).catch((e) => {
      if (!alive) return;
      if (token && e instanceof FunctionError && e.status === 401) onSignedOut(); // expired: back to a guest
      else setFailed(true);
    });
    return () => {
      alive = false;
    };
  }, [token, refresh, onSignedOut]);

  if (!token && !failed && !orders?.length) return null;
  return (
    <section className="my-orders" aria-labelledby="my-orders-title">
      <h2 id="my-orders-title">{t(token ? "myOrders" : "deviceOrders")}</h2>
      {!token && <p className="hint">{t("deviceOrdersHint")}</p>}
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

/** This device's guest orders as they stand now; one the shop no longer knows is left out. */
async function deviceOrders(): Promise<MyOrder[]> {
  const found = await Promise.all(guestOrders().map((g) => api.orderStatus(g.id).then((r) => r.order, () => undefined)));
  return found.filter((o) => o !== undefined).map((o) => ({
    id: o.id, order_number: o.order_number, store_id: o.store_id, store_name: o.store_name, status: o.status,
    total_minor: o.total_minor, currency: o.currency, created_at: o.created_at, items: o.items.reduce((n, i) => n + i.quantity, 0),
  })).sort((a, b) => b.created_at.localeCompare(a.created_at));
}
