/**
 * One order, live (polled every second), in the buyer's words: where it stands, payment,
 * delivery, their money, what was short if it was cancelled for lack of stock, the demo's
 * next action, and, folded, the steps the shop's engines took. It scrolls itself into
 * view when it opens (on a phone it is below the cart) and tells the page what it learns.
 */
import { useEffect, useRef, useState } from "react";
import { SETTLED_STATUSES } from "../../src/bus/vocabulary.ts";
import { FunctionError } from "../shared/supabase.ts";
import { api, type BusEventView, type OrderView } from "./api.ts";
import { looksLikeEmail } from "./errors.ts";
import { useI18n } from "./i18n.tsx";
import { eventWord, orderWords, shortItems, stepStatusWord, stepWord } from "./order-words.ts";
import type { StringKey } from "./strings.ts";

interface Props {
  orderId: string;
  email: string;
  onOrder: (order: OrderView) => void;
  onClose: () => void;
}

export function OrderTracker({ orderId, email, onOrder, onClose }: Props) {
  const { t, money, number } = useI18n();
  const [order, setOrder] = useState<OrderView>();
  const [events, setEvents] = useState<BusEventView[]>([]);
  const [problem, setProblem] = useState<StringKey>();
  const heading = useRef<HTMLHeadingElement>(null);
  const report = useRef(onOrder);
  report.current = onOrder;

  useEffect(() => {
    let alive = true;
    setOrder(undefined);
    setProblem(undefined);
    const load = () =>
      api.orderStatus(orderId).then((r) => {
        if (!alive) return;
        setOrder(r.order);
        setEvents(r.events);
        report.current(r.order);
        // Settled for a few seconds running (a handler's late event would have shown): nothing more will happen.
        quiet = settled(r.order, r.events) ? quiet + 1 : 0;
        if (quiet >= SETTLED_POLLS) clearInterval(timer);
      }).catch((e) => {
        if (!alive) return;
        const missing = e instanceof FunctionError && (e.status === 404 || e.status === 400); // no such order, or not an order id
        setProblem(missing ? "orderMissing" : "actionFailed");
        if (missing) clearInterval(timer);
      });
    let quiet = 0;
    const timer = setInterval(load, 1000);
    load();
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [orderId]);

  const loaded = order?.id === orderId;
  useEffect(() => {
    if (!loaded) return;
    heading.current?.focus({ preventScroll: true });
    heading.current?.scrollIntoView({ block: "start", behavior: "smooth" });
  }, [loaded]);

  const act = (action: () => Promise<unknown>) => action().then(() => setProblem(undefined))
    .catch((e) => setProblem(e instanceof FunctionError && e.status === 409 ? "actionDone" : "actionFailed"));

  if (!order) {
    return (
      <section className="order" aria-live="polite">
        {problem ? <p role="alert" className="field-error">{t(problem)}</p> : t("loadingOrder")}
        <button type="button" onClick={onClose}>{t("close")}</button>
      </section>
    );
  }
  const words = orderWords(order);
  const short = shortItems(order);
  const cancelled = order.status === "cancelled";
  return (
    <section className="order" data-order={order.order_number} aria-labelledby="order-title">
      <div className="order-head">
        <h2 id="order-title" ref={heading} tabIndex={-1}>{t("order", { number: order.order_number })} <small>{t("from", { store: order.store_name })}</small></h2>
        <button type="button" onClick={onClose}>{t("close")}</button>
      </div>
      <p className="headline" data-status={order.status} aria-live="polite"><strong>{t(words.headline)}</strong> · {money(order.total_minor, order.currency)}</p>
      {short && (
        <div role="alert" className="shortage">
          <p>{t("shortage")}</p>
          <ul>{short.map((i) => <li key={i.product_id}>{t("shortLine", { name: i.name, wanted: i.quantity, left: i.stock })}</li>)}</ul>
        </div>
      )}
      {cancelled && !short && <p className="field-error">{t("cancelledOther")}</p>}
      <dl className="badges">
        <Badge id="payment" label={t("paymentLabel")} value={order.payment_status} text={t(words.payment)} />
        <Badge id="delivery" label={t("deliveryLabel")} value={order.delivery_status} text={t(words.delivery)} />
        <Badge id="money" label={t("moneyLabel")} value={order.escrow_status ?? "none"} text={t(words.money)} />
        <Badge id="emails" label={t("emailsLabel")} value={String(order.emails)} text={number(order.emails)} />
      </dl>
      <div className="actions">
        {!cancelled && order.payment_status === "pending" && <button type="button" onClick={() => act(() => api.pay(orderId))}>{t("pay")}</button>}
        {order.payment_status === "paid" && order.delivery_status === "pending" && (
          <button type="button" onClick={() => act(() => api.deliver(orderId))}>{t("deliver")}</button>
        )}
        {order.delivery_status === "delivered" && <button type="button" onClick={() => act(() => api.confirm(orderId, looksLikeEmail(email) ? email : undefined))}>{t("confirm")}</button>}
      </div>
      {problem && <p role="alert" className="field-error">{t(problem)}</p>}
      <details className="steps">
        <summary>{t("behindScenes")}</summary>
        <ol className="events">
          {events.map((e) => (
            <li key={e.id} data-event={e.event_type} data-status={e.status}>
              <strong>{t(eventWord(e))}</strong>
              <ul>
                {latestRuns(e).map((h) => (
                  <li key={h.handler_name} data-handler={h.handler_name} data-status={h.status}>
                    {t(stepWord(h.handler_name))} <span className={`status ${h.status}`}>{t(stepStatusWord(h.status))}</span>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      </details>
    </section>
  );
}

const SETTLED_POLLS = 5;
const FINAL: readonly string[] = SETTLED_STATUSES;
/** A completed or cancelled order whose every event is finished: polling it can stop. */
const settled = (order: OrderView, events: BusEventView[]) =>
  (order.status === "completed" || order.status === "cancelled") && events.every((e) => FINAL.includes(e.status));

/** Each step once, as it stands now (its latest run): a buyer does not count attempts. */
function latestRuns(event: BusEventView) {
  const byHandler = new Map(event.handlers.map((h) => [h.handler_name, h])); // ordered by attempt: the last one wins
  return [...byHandler.values()];
}

function Badge({ id, label, value, text }: { id: string; label: string; value: string; text: string }) {
  return (
    <div className="badge" data-badge={id} data-value={value}>
      <dt>{label}</dt>
      <dd className={`status ${value}`}>{text}</dd>
    </div>
  );
}
