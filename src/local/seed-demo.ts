/**
 * Demo data for a first `npm start`: two stores with products, and support agents, so a
 * newcomer can place an order within a minute. Only into an empty marketplace.
 */
import type { Sql } from "../bus/index.ts";

const STORES = [
  { name: "Atelier Dakar", slug: "atelier-dakar", products: [["Woven basket", 12_000, 25], ["Indigo scarf", 18_500, 12], ["Clay mug", 3_500, 40]] },
  { name: "Marché Abidjan", slug: "marche-abidjan", products: [["Cocoa beans 1 kg", 6_000, 100], ["Shea butter", 4_500, 3], ["Kente cloth", 45_000, 1]] },
] as const;

export async function seedDemo(sql: Sql): Promise<boolean> {
  return await sql.begin(async (tx) => {
    await tx`lock table stores in exclusive mode`; // two starts at once seed once
    const [{ n }] = await tx<{ n: number }[]>`select count(*)::int as n from stores`;
    if (n > 0) return false;
    for (const store of STORES) {
      const [row] = await tx<{ id: string }[]>`insert into stores (name, slug, currency) values (${store.name}, ${store.slug}, 'XOF') returning id`;
      for (const [name, price, stock] of store.products) {
        await tx`insert into products (store_id, name, price_minor, currency, stock) values (${row.id}, ${name}, ${price}, 'XOF', ${stock})`;
      }
    }
    for (const [email, name] of [["awa@feyxa.local", "Awa"], ["moussa@feyxa.local", "Moussa"]]) {
      // Supabase Auth gives a user its id; auth.users has no default for it.
      await tx`insert into auth.users (id, email) select gen_random_uuid(), ${email}
               where not exists (select 1 from auth.users where email = ${email})`;
      const [user] = await tx<{ id: string }[]>`select id from auth.users where email = ${email}`;
      await tx`insert into support_agents (user_id, display_name) values (${user.id}, ${name}) on conflict do nothing`;
    }
    return true;
  });
}
