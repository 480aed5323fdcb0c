/** Pick products of a store, check out, then follow the order through the engines, live. */
import { useEffect, useState } from "react";
import { api, money, type PlacedOrder, type Store } from "./api.ts";
import { OrderTracker } from "./OrderTracker.tsx";

export function Storefront() {
  const [stores, setStores] = useState<Store[]>([]);
  const [storeId, setStoreId] = useState<string>();
  const [cart, setCart] = useState<Record<string, number>>({});
  const [email, setEmail] = useState("");
  const [method, setMethod] = useState("card");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [order, setOrder] = useState<PlacedOrder & { email: string }>();

  useEffect(() => {
    api.stores().then((s) => {
      setStores(s);
      setStoreId((current) => current ?? s[0]?.id);
    }).catch((e: Error) => setError(e.message));
  }, [order]);

  const store = stores.find((s) => s.id === storeId);
  const lines = Object.entries(cart).filter(([, q]) => q > 0);
  const total = store ? lines.reduce((sum, [id, q]) => sum + q * (store.products.find((p) => p.id === id)?.price_minor ?? 0), 0) : 0;

  async function placeOrder() {
    if (!store) return;
    setBusy(true);
    setError(undefined);
    try {
      const placed = await api.checkout({
        store_id: store.id, customer_email: email, payment_method: method,
        items: lines.map(([product_id, quantity]) => ({ product_id, quantity })),
      });
      setOrder({ ...placed, email });
      setCart({});
      // Design card: the checkout page invokes process-event for its order's event. Idempotent:
      // if the dispatcher got there first, this only reports.
      await api.processEvent(placed.event_id);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main>
      <header>
        <h1>Feyxa Market</h1>
        <nav>
          {stores.map((s) => (
            <button key={s.id} className={s.id === storeId ? "tab active" : "tab"} onClick={() => { setStoreId(s.id); setCart({}); }}>
              {s.name}
            </button>
          ))}
        </nav>
      </header>
      {error && <p role="alert" className="error">{error}</p>}
      <section className="layout">
        <div className="products">
          {store?.products.map((p) => (
            <article key={p.id} className="product" data-product={p.name}>
              <h3>{p.name}</h3>
              <p className="price">{money(p.price_minor, store.currency)}</p>
              <p className="stock">{p.stock} in stock</p>
              <label>
                Quantity
                <input type="number" min={0} max={1000} value={cart[p.id] ?? 0} aria-label={`Quantity of ${p.name}`}
                  onChange={(e) => setCart({ ...cart, [p.id]: Math.max(0, Number(e.target.value)) })} />
              </label>
            </article>
          ))}
        </div>
        <aside className="checkout">
          <h2>Checkout</h2>
          <p>{lines.length} line(s) — <strong>{store ? money(total, store.currency) : ""}</strong></p>
          <label>Email <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="you@example.com" /></label>
          <label>
            Payment
            <select value={method} onChange={(e) => setMethod(e.target.value)}>
              <option value="card">Card</option>
              <option value="mobile_money">Mobile money</option>
              <option value="cash_on_delivery">Cash on delivery</option>
            </select>
          </label>
          <button className="primary" disabled={busy || lines.length === 0 || !email} onClick={placeOrder}>Place order</button>
        </aside>
      </section>
      {order && <OrderTracker orderId={order.order_id} email={order.email} />}
    </main>
  );
}
