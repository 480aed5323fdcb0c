/** One order and, live (polled every second), every event about it and what each handler did. */
import { useEffect, useState } from "react";
import { api, type BusEventView, money, type OrderView } from "./api.ts";

export function OrderTracker({ orderId, email }: { orderId: string; email: string }) {
  const [order, setOrder] = useState<OrderView>();
  const [events, setEvents] = useState<BusEventView[]>([]);
  const [error, setError] = useState<string>();

  useEffect(() => {
    let alive = true;
    const load = () =>
      api.orderStatus(orderId).then((r) => {
        if (!alive) return;
        setOrder(r.order);
        setEvents(r.events);
      }).catch((e: Error) => alive && setError(e.message));
    load();
    const timer = setInterval(load, 1000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [orderId]);

  const act = (action: () => Promise<unknown>) => action().then(() => setError(undefined)).catch((e: Error) => setError(e.message));
  if (!order) return <section className="order">Loading order…</section>;

  return (
    <section className="order" data-order={order.order_number}>
      <h2>Order {order.order_number} <small>{order.store_name}</small></h2>
      <p>{money(order.total_minor, order.currency)}{order.cancel_reason && <span className="error"> — {order.cancel_reason}</span>}</p>
      <dl className="badges">
        <Badge label="Order" value={order.status} />
        <Badge label="Payment" value={order.payment_status} />
        <Badge label="Escrow" value={order.escrow_status ?? "none"} />
        <Badge label="Delivery" value={order.delivery_status} />
        <Badge label="Emails" value={String(order.emails)} />
      </dl>
      <div className="actions">
        <button disabled={order.payment_status !== "pending" || order.status === "cancelled"} onClick={() => act(() => api.pay(orderId))}>Pay (demo provider)</button>
        <button disabled={order.payment_status !== "paid" || order.delivery_status !== "pending"} onClick={() => act(() => api.deliver(orderId))}>Deliver (courier)</button>
        <button disabled={order.delivery_status !== "delivered"} onClick={() => act(() => api.confirm(orderId, email))}>Confirm receipt</button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <h3>What the engines did</h3>
      <ol className="events">
        {events.map((e) => (
          <li key={e.id} data-event={e.event_type}>
            <strong>{e.event_type}</strong> <span className={`status ${e.status}`}>{e.status}</span>
            {e.error_message && <span className="error"> {e.error_message}</span>}
            <ul>
              {e.handlers.map((h) => (
                <li key={`${h.attempt}:${h.handler_name}`} data-handler={h.handler_name} data-status={h.status}>
                  <span className={`engine ${h.handler_name.split(".")[0]}`}>{h.handler_name.split(".")[0]}</span>
                  {h.handler_name.split(".")[1]} <span className={`status ${h.status}`}>{h.status}</span>
                  <small> {h.duration_ms} ms, attempt {h.attempt}</small>
                  {h.error_message && <div className="error">{h.error_message}</div>}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Badge({ label, value }: { label: string; value: string }) {
  return (
    <div className="badge" data-badge={label.toLowerCase()}>
      <dt>{label}</dt>
      <dd className={`status ${value}`}>{value}</dd>
    </div>
  );
}
