/** A small marketplace in the test database: a store, products, agents; and a bus that drains it. */
import { afterAll } from "vitest";
import type { Bus } from "../../src/bus/bus.ts";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { seedDemo } from "../../src/local/seed-demo.ts";
import { testBus } from "./bus.ts";
import { useDatabase } from "./database.ts";
import type { AttemptOutcome, Sql } from "../../src/bus/types.ts";

export interface Shop {
  storeId: string;
  products: Record<string, string>;
}

export async function openShop(sql: Sql, products: { name: string; price: number; stock: number; backorder?: boolean }[]): Promise<Shop> {
  const slug = `shop-${crypto.randomUUID().slice(0, 8)}`;
  const [store] = await sql<{ id: string }[]>`insert into stores (name, slug, currency) values (${`Shop ${slug}`}, ${slug}, 'XOF') returning id`;
  const ids: Record<string, string> = {};
  for (const p of products) {
    const [row] = await sql<{ id: string }[]>`
      insert into products (store_id, name, price_minor, currency, stock, allow_backorder)
      values (${store.id}, ${p.name}, ${p.price}, 'XOF', ${p.stock}, ${p.backorder ?? false}) returning id`;
    ids[p.name] = row.id;
  }
  return { storeId: store.id, products: ids };
}

export async function hireAgent(sql: Sql, name: string): Promise<string> {
  const [user] = await sql<{ id: string }[]>`insert into auth.users (id, email) values (gen_random_uuid(), ${`${name.toLowerCase()}-${crypto.randomUUID().slice(0, 6)}@support.test`}) returning id`;
  await sql`insert into support_agents (user_id, display_name) values (${user.id}, ${name})`;
  return user.id;
}

export async function checkout(
  sql: Sql,
  shop: Shop,
  lines: Record<string, number>,
  extra: { email?: string; attribution?: Record<string, string> } = {},
): Promise<{ order_id: string; event_id: string; order_number: string }> {
  const items = Object.entries(lines).map(([name, quantity]) => ({ product_id: shop.products[name], quantity }));
  const [order] = await sql<{ order_id: string; event_id: string; order_number: string }[]>`
    select * from checkout(${shop.storeId}::uuid, ${extra.email ?? "buyer@example.com"}, ${sql.json(items)}, 'card',
                           ${sql.json(extra.attribution ?? {})}, null)`;
  return order;
}

/** Processes everything due until nothing is left (bounded), returning every outcome. */
export async function drain(bus: Bus): Promise<AttemptOutcome[]> {
  const all: AttemptOutcome[] = [];
  for (let i = 0; i < 50; i++) {
    const outcomes = await bus.drainOnce(100);
    if (outcomes.length === 0) return all;
    all.push(...outcomes);
  }
  throw new Error("the bus did not drain in 50 batches");
}

/**
 * The demo marketplace (two stores, their products, two agents) in this file's database,
 * with every engine's handlers run by a polling dispatcher until the file ends: what the
 * browser tests put behind the pages.
 */
export async function runDemoMarketplace(): Promise<{ sql: Sql; bus: Bus }> {
  const { sql } = await useDatabase();
  await seedDemo(sql);
  const bus = testBus(sql, engineHandlers());
  const dispatcher = new Dispatcher(bus, { pollIntervalMs: 200, onError: () => {} });
  await dispatcher.start();
  afterAll(() => dispatcher.stop());
  return { sql, bus };
}
