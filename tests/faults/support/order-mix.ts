/**
 * The chaos tier's scripted shop and orders: the same mix for the reference run and the
 * chaos run, from a seeded generator. Every order lists the two hot products (in a
 * shuffled item order) whose stock runs out part-way, so concurrent orders compete for
 * their last units; some ask more of a rare product than will ever be in stock; half are
 * paid at once, as a payment webhook would, and a courier delivers the paid orders that
 * have their stock (some buyers confirm receipt). Orders are placed through checkout() in SQL,
 * as the checkout function does, from several connections, paced so that they keep
 * arriving while the dispatchers work (and are killed).
 */
import postgres from "postgres";
import type { Sql } from "../../../src/bus/types.ts";
import { openShop, type Shop } from "../../support/marketplace.ts";
import { sleep } from "./processes.ts";

export const CHAOS_PRODUCTS = [
  { name: "Hot Kettle", price: 12_000, stock: 330 },
  { name: "Hot Mug", price: 3_000, stock: 390 },
  { name: "Tea", price: 1_000, stock: 100_000 },
  { name: "Cup", price: 500, stock: 100_000 },
  { name: "Rare Teapot", price: 90_000, stock: 4 },
];

export interface ScriptedOrder {
  email: string;
  lines: { product: string; quantity: number }[];
  /** Asks more of a product than its whole stock: refused whatever the timing. */
  overAsks: boolean;
  pays: boolean;
  /** Confirms receipt once delivered (when paid and in stock). */
  confirms: boolean;
}

/** mulberry32: a small seeded generator, so both runs get the very same orders. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function scriptOrders(count: number, seed = 12): ScriptedOrder[] {
  const random = seeded(seed);
  const pick = (n: number) => Math.floor(random() * n);
  return Array.from({ length: count }, (_, i) => {
    const lines = [
      { product: "Hot Kettle", quantity: 1 + (random() < 0.25 ? 1 : 0) },
      { product: "Hot Mug", quantity: 1 + pick(2) },
    ];
    if (random() < 0.6) lines.push({ product: "Tea", quantity: 1 + pick(3) });
    if (random() < 0.4) lines.push({ product: "Cup", quantity: 1 + pick(2) });
    const overAsks = i % 11 === 5;
    if (overAsks) lines.push({ product: "Rare Teapot", quantity: 5 + pick(5) });
    for (let k = lines.length - 1; k > 0; k--) { // shuffled: buyers list items in any order
      const j = pick(k + 1);
      [lines[k], lines[j]] = [lines[j], lines[k]];
    }
    return { email: `buyer${i}@example.com`, lines, overAsks, pays: random() < 0.5, confirms: random() < 0.5 };
  });
}

export const openChaosShop = (sql: Sql): Promise<Shop> => openShop(sql, CHAOS_PRODUCTS);

export interface PlacedOrder {
  orderId: string;
  eventId: string;
  script: ScriptedOrder;
}

/**
 * Places `orders` through checkout() from `connections` connections of their own, each
 * pausing `pauseMs` after an order; pays an order right after it when scripted to.
 */
export async function placeOrders(
  url: string, shop: Shop, orders: ScriptedOrder[], { connections = 4, pauseMs = 0 } = {},
): Promise<PlacedOrder[]> {
  const buyers = postgres(url, { max: connections, onnotice: () => {} });
  const placed: PlacedOrder[] = [];
  let next = 0;
  try {
    await Promise.all(Array.from({ length: connections }, async () => {
      for (let i = next++; i < orders.length; i = next++) {
        const script = orders[i];
        const items = script.lines.map((l) => ({ product_id: shop.products[l.product], quantity: l.quantity }));
        const [order] = await buyers<{ order_id: string; event_id: string }[]>`
          select order_id, event_id from checkout(${shop.storeId}::uuid, ${script.email}, ${buyers.json(items)}, 'card')`;
        if (script.pays) {
          await buyers`update payments set status = 'paid', provider_ref = ${`chaos_${i}`}
                       where order_id = ${order.order_id}::uuid and status = 'pending'`;
        }
        placed.push({ orderId: order.order_id, eventId: order.event_id, script });
        if (pauseMs) await sleep(pauseMs);
      }
    }));
  } finally {
    await buyers.end({ timeout: 5 });
  }
  return placed;
}

/**
 * One round of the courier: buyers who confirm receipt confirm what was delivered (as
 * confirm-delivery does), then every paid order whose stock is taken is delivered. Each
 * emits its delivery event through the deliveries trigger.
 */
export async function courierRound(sql: Sql, shop: Shop, orders: ScriptedOrder[]): Promise<void> {
  const confirming = orders.filter((o) => o.confirms).map((o) => o.email);
  await sql`
    select confirm_delivery(o.id, o.customer_email) from orders o join deliveries d on d.order_id = o.id
    where o.store_id = ${shop.storeId}::uuid and d.status = 'delivered' and o.customer_email = any(${confirming}::text[])`;
  await sql`
    update deliveries d set status = 'delivered' from orders o
    where o.id = d.order_id and d.store_id = ${shop.storeId}::uuid and d.status = 'pending' and o.status = 'paid'
      and exists (select 1 from stock_movements m where m.order_id = o.id)`;
}
