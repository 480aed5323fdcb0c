/**
 * Hot products under concurrent checkouts: whatever order buyers list the items in, and
 * while the dispatcher reserves stock for the orders already placed, no checkout and no
 * reservation deadlocks, none answers 5xx, every order is placed and its stock taken once,
 * and listing items in reverse or shuffled order costs no more than a small factor of
 * listing them sorted (checkout's order_items and reserve_stock_for_order lock products
 * in one global order, with locks that do not conflict).
 */
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { Dispatcher } from "../../../src/bus/dispatcher.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { serverFunctions } from "../../support/auth.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { openShop } from "../../support/marketplace.ts";

const CONNECTIONS = 8;
const ORDERS_EACH = 30;
const STOCK = 100_000;

const { sql, url } = await useDatabase();
// The buyers' side has its own connections, so that checkouts really run side by side.
const buyerSql = postgres(url, { max: CONNECTIONS, onnotice: () => {} });
afterAll(() => buyerSql.end({ timeout: 5 }));
const gateway = createGateway(serverFunctions(testBus(buyerSql, [])));

const bus = testBus(sql, engineHandlers());
const dispatchers = [1, 2].map(() => new Dispatcher(bus, { pollIntervalMs: 50, onError: () => {} }));
afterAll(() => Promise.all(dispatchers.map((d) => d.stop())));

const shop = await openShop(sql, ["A", "B", "C", "D", "E", "F"].map((name) => ({ name, price: 1_000, stock: STOCK })));
const ids = Object.values(shop.products).sort();

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

interface Run {
  statuses: number[];
  eventIds: string[];
  ms: number;
}

/** CONNECTIONS buyers each check out ORDERS_EACH orders of every hot product, listed as `listing` says. */
async function rush(listing: (buyer: number) => string[]): Promise<Run> {
  const statuses: number[] = [];
  const eventIds: string[] = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, buyer) => {
    for (let n = 0; n < ORDERS_EACH; n++) {
      const items = listing(buyer).map((product_id, k) => ({ product_id, quantity: 1 + ((n + k) % 3) }));
      const res = await gateway(new Request("http://localhost:54321/functions/v1/checkout", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ store_id: shop.storeId, customer_email: `buyer${buyer}@example.com`, payment_method: "card", items }),
      }));
      statuses.push(res.status);
      const body = await res.json();
      if (res.status === 201) eventIds.push(body.event_id);
    }
  }));
  // Until the dispatcher has taken each order's stock (or failed trying).
  for (let waited = 0; ; waited += 50) {
    const [{ n }] = await sql<{ n: number }[]>`
      select count(*)::int as n from feyxa.event_handlers_log
      where event_id = any(${eventIds}::uuid[]) and handler_name = 'commerce.decrement_stock'`;
    if (n >= eventIds.length || waited > 30_000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { statuses, eventIds, ms: performance.now() - started };
}

async function failures(run: Run) {
  return await sql<{ handler_name: string; error_message: string }[]>`
    select handler_name, error_message from feyxa.event_handlers_log
    where event_id = any(${run.eventIds}::uuid[]) and status = 'failed'`;
}

describe("concurrent checkouts of the same hot products, in any item order, while stock is reserved", () => {
  for (const d of dispatchers) void d.start();

  it("none deadlocks or answers 5xx, every order is placed and reserved once, at a pace close to sorted listings", async () => {
    const sorted = await rush(() => ids);
    const mixed = await rush((buyer) => (buyer % 2 === 0 ? [...ids].reverse() : shuffled(ids)));

    const rate = (run: Run) => Math.round(run.eventIds.length / (run.ms / 1000));
    const sortedFailures = await failures(sorted);
    const mixedFailures = await failures(mixed);
    console.info(`hot products: sorted ${rate(sorted)} orders/s, ${sorted.statuses.filter((s) => s !== 201).length} non-201, ` +
      `${sortedFailures.length} failed runs; reversed/shuffled ${rate(mixed)} orders/s, ` +
      `${mixed.statuses.filter((s) => s !== 201).length} non-201 (${[...new Set(mixed.statuses)].join(", ")}), ` +
      `${mixedFailures.length} failed runs (${[...new Set(mixedFailures.map((f) => f.error_message.slice(0, 60)))].join(" | ")})`);
    for (const [run, failed] of [[sorted, sortedFailures], [mixed, mixedFailures]] as const) {
      expect(run.statuses.filter((s) => s !== 201)).toEqual([]);
      expect(run.eventIds).toHaveLength(CONNECTIONS * ORDERS_EACH);
      expect(failed).toEqual([]);
    }
    // Every order's stock taken exactly once.
    const [taken] = await sql<{ movements: number; orders: number }[]>`
      select count(*)::int as movements, count(distinct order_id)::int as orders from stock_movements m
      join orders o on o.id = m.order_id where o.store_id = ${shop.storeId}`;
    expect(taken).toEqual({ movements: 2 * CONNECTIONS * ORDERS_EACH * ids.length, orders: 2 * CONNECTIONS * ORDERS_EACH });
    const stock = await sql<{ stock: number; moved: number }[]>`
      select p.stock, (select sum(quantity)::int from stock_movements m where m.product_id = p.id) as moved
      from products p where p.store_id = ${shop.storeId}`;
    for (const p of stock) expect(p.stock).toBe(STOCK - p.moved);
    // A generous bound (each deadlock costs deadlock_timeout, 1 s): the counts above are the real test.
    expect(mixed.ms).toBeLessThan(5 * sorted.ms + 2_000);
  }, 180_000);
});
