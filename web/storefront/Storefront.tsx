/**
 * Pick products of a shop, check out, then follow the order through the engines, live.
 * The URL holds the shop, the open order and the language (a reload keeps them); each shop
 * keeps its own cart; the stock shown is refreshed after an order, when the page regains
 * focus and every 20 s, and bounds every quantity before anything is ordered. An order is
 * placed once per attempt, however often it is sent (attempt.ts: its Idempotency-Key).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { FunctionError, usesSupabaseAuth } from "../shared/supabase.ts";
import { useUrlParams } from "../shared/url-state.ts";
import { api, type CheckoutInput, type OrderView, type Store } from "./api.ts";
import { useCheckoutAttempt } from "./attempt.ts";
import { accessToken, signOut, takeTokenFromLink, tokenEmail } from "./auth.ts";
import { useCarts } from "./cart.ts";
import { CartPanel } from "./CartPanel.tsx";
import { type FieldId, looksLikeEmail, placeCheckoutError, quantityField } from "./errors.ts";
import { guestOrderEmail, rememberGuestOrder } from "./guest-orders.ts";
import { Header } from "./Header.tsx";
import { useI18n } from "./i18n.tsx";
import { MyOrders } from "./MyOrders.tsx";
import { OrderTracker } from "./OrderTracker.tsx";
import { ProductCard } from "./ProductCard.tsx";
import { SignIn } from "./SignIn.tsx";
import { checkQuantity, type Problem } from "./quantity.ts";

const EMAIL_KEY = "feyxa.storefront.email";
const STOCK_REFRESH_MS = 20_000;

export function Storefront() {
  const { t, money } = useI18n();
  const [params, setParams] = useUrlParams();
  const [stores, setStores] = useState<Store[]>([]);
  const [loadFailed, setLoadFailed] = useState(false);
  const { cartOf, setQuantity, empty } = useCarts();
  const [token, setToken] = useState(accessToken);
  const [email, setEmail] = useState(() => localStorage.getItem(EMAIL_KEY) ?? tokenEmail(accessToken()) ?? "");
  const [method, setMethod] = useState("card");
  const [refused, setRefused] = useState<Partial<Record<FieldId, Problem>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const sending = useRef(false); // set at once: a second click in the same frame finds it (busy re-renders later)
  const attempt = useCheckoutAttempt();
  const [focusInvalid, setFocusInvalid] = useState(0);
  const [tracked, setTracked] = useState<OrderView>();
  // The order placed here whose cart is emptied once its stock is taken (kept if it is short).
  const placed = useRef<{ orderId: string; storeId: string }>(undefined);

  const reloadStores = useCallback(() => api.stores().then((s) => {
    setStores(s);
    setLoadFailed(false);
  }).catch(() => setLoadFailed(true)), []);
  useEffect(() => {
    reloadStores();
    const timer = setInterval(reloadStores, STOCK_REFRESH_MS);
    const onVisible = () => document.visibilityState === "visible" && reloadStores();
    window.addEventListener("focus", reloadStores);
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      clearInterval(timer);
      window.removeEventListener("focus", reloadStores);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [reloadStores]);
  useEffect(() => localStorage.setItem(EMAIL_KEY, email), [email]);
  useEffect(() => {
    // A sign-in link opened on this very page changes only the fragment: no reload, so take it here.
    const onHash = () => {
      takeTokenFromLink();
      setToken(accessToken());
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    if (focusInvalid) document.querySelector<HTMLElement>('[aria-invalid="true"], #form-msg')?.focus();
  }, [focusInvalid]);

  const orderId = params.get("order") ?? undefined;
  const store = stores.find((s) => s.slug === params.get("store")) ?? stores.find((s) => s.id === tracked?.store_id) ?? stores[0];
  const cart = cartOf(store?.id);
  const checked = (store?.products ?? []).map((p) => ({ product: p, ...checkQuantity(cart[p.id], p) }));
  const lines = checked.filter((l) => l.quantity > 0);
  const total = lines.reduce((sum, l) => sum + l.quantity * l.product.price_minor, 0);
  const emailProblem: Problem | undefined = submitted && !looksLikeEmail(email.trim()) ? { key: "errEmail" } : refused.email;
  const formProblem: Problem | undefined = refused.form ??
    (submitted && lines.length === 0 && checked.every((l) => !l.problem) ? { key: "errEmptyCart" } : undefined);

  const clearRefusal = (field: FieldId) => setRefused(({ [field]: _, form: __, ...rest }) => rest);

  function switchStore(next: Store) {
    // An order of another shop does not stay on screen under this one.
    setParams({ store: next.slug, order: tracked && tracked.store_id !== next.id ? undefined : orderId });
    setRefused({});
    setSubmitted(false);
  }

  const onOrder = useCallback((order: OrderView) => {
    setTracked(order);
    const mine = placed.current;
    if (mine?.orderId !== order.id) return;
    if (order.stock_taken) empty(mine.storeId);
    if (order.stock_taken || order.status === "cancelled") {
      placed.current = undefined;
      reloadStores(); // the stock shown moved (or was short): show it as it is now
    }
  }, [empty, reloadStores]);

  async function placeOrder() {
    if (!store || sending.current) return;
    setSubmitted(true);
    setRefused({});
    const invalid = checked.some((l) => l.problem) || lines.length === 0 || !looksLikeEmail(email.trim());
    if (invalid) return setFocusInvalid((n) => n + 1);
    const input: CheckoutInput = {
      store_id: store.id, customer_email: email.trim(), payment_method: method,
      items: lines.map((l) => ({ product_id: l.product.id, quantity: l.quantity })),
    };
    setBusy(true);
    sending.current = true;
    try {
      const order = await api.checkout(input, attempt.keyFor(input));
      attempt.done();
      if (!token) rememberGuestOrder({ id: order.order_id, email: input.customer_email });
      placed.current = { orderId: order.order_id, storeId: store.id };
      setSubmitted(false);
      setParams({ store: store.slug, order: order.order_id });
      // Design card: the checkout page invokes process-event for its order's event. Idempotent:
      // if the dispatcher got there first, this only reports; if it fails, the dispatcher runs it.
      api.processEvent(order.event_id).catch(() => undefined);
    } catch (thrown) {
      // A refusal is this attempt's answer: the next press is a new attempt. No answer (offline,
      // a 5xx): the same attempt, sent again with its key, cannot order twice.
      if (thrown instanceof FunctionError && thrown.status !== undefined && thrown.status < 500) attempt.done();
      const where = placeCheckoutError(thrown, input);
      setRefused({ [where.field]: where.problem });
      if (where.reloadStock) await reloadStores();
      setFocusInvalid((n) => n + 1);
    } finally {
      sending.current = false;
      setBusy(false);
    }
  }

  const onSignedOut = useCallback(() => {
    signOut();
    setToken(undefined);
  }, []);

  return (
    <div className="page">
      <Header stores={stores} current={store} cartSize={(s) => checkedCount(cartOf(s.id), s)} onStore={switchStore}
        signedIn={Boolean(token)} onSignOut={onSignedOut} />
      <main>
        {loadFailed && <p role="alert" className="field-error">{t("errOffline")}</p>}
        <div className="layout">
          <section className="products" id="products" tabIndex={-1} aria-label={t("products")}>
            {checked.map(({ product, problem }) => (
              <ProductCard key={product.id} product={product} currency={store!.currency} typed={cart[product.id]}
                problem={problem ?? refused[quantityField(product.id)]}
                onChange={(typed) => {
                  setQuantity(store!.id, product.id, typed);
                  clearRefusal(quantityField(product.id));
                }} />
            ))}
          </section>
          <CartPanel items={lines.reduce((n, l) => n + l.quantity, 0)} total={store ? money(total, store.currency) : ""} email={email} method={method}
            busy={busy} problems={{ email: emailProblem, payment: refused.payment, form: formProblem }}
            onEmail={(e) => { setEmail(e); clearRefusal("email"); }} onMethod={(m) => { setMethod(m); clearRefusal("payment"); }}
            onPlace={placeOrder} />
        </div>
        {orderId && (
          <OrderTracker orderId={orderId} email={guestOrderEmail(orderId) ?? email} onOrder={onOrder}
            onClose={() => { setParams({ order: undefined }); setTracked(undefined); }} />
        )}
        {!token && usesSupabaseAuth && <SignIn email={email} />}
        <MyOrders token={token} refresh={`${orderId}:${tracked?.status}:${tracked?.payment_status}:${tracked?.delivery_status}`}
          onOpen={(o) => setParams({ order: o.id, store: stores.find((s) => s.id === o.store_id)?.slug })} onSignedOut={onSignedOut} />
      </main>
    </div>
  );
}

/** How many items a shop's cart holds (valid lines only), for the shop picker. */
function checkedCount(cart: Record<string, string>, store: Store): number {
  return store.products.reduce((n, p) => n + checkQuantity(cart[p.id], p).quantity, 0);
}
