/**
 * Everything in `public` as the Data API's callers reach it: `anon`, and a signed-in buyer
 * who is a stranger (owns no store, placed no order). Every table, view, sequence and
 * function is listed from pg_catalog, so a new object is covered the day it is added,
 * and each privilege is refused unless SURFACE below says otherwise, with a reason.
 * Readable relations are also read, to see the rows RLS lets through. Who among the
 * store's own people reads what is tests/security/rls-matrix.test.ts.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { asApiRole, type ApiRole } from "../support/as-role.ts";
import { testFunctions, token } from "../support/auth.ts";
import { testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";
import { openShop } from "../support/marketplace.ts";

const { sql } = await useDatabase();

// A store with an owner, a customer's order, money on its ledger, a payout: rows a leak would show.
const [owner, customer, stranger] = [uuid(), uuid(), uuid()];
for (const id of [owner, customer, stranger]) await sql`insert into auth.users (id, email) values (${id}, ${`${id}@example.com`})`;
const shop = await openShop(sql, [{ name: "Lamp", price: 2500, stock: 50 }]);
const items = [{ product_id: shop.products.Lamp, quantity: 1 }];
await sql`insert into store_members (store_id, user_id, role) values (${shop.storeId}, ${owner}, 'owner')`;
const [order] = await sql`select * from checkout(${shop.storeId}::uuid, 'customer@example.com', ${sql.json(items)}, 'card', '{}'::jsonb, ${customer}::uuid)`;
await sql`insert into store_ledger (store_id, currency, amount_minor, kind, ref_id) values (${shop.storeId}, 'XOF', 2500, 'escrow_release', gen_random_uuid())`;
await sql`insert into payouts (store_id, amount_minor, currency) values (${shop.storeId}, 100, 'XOF')`;

type Caller = "anon" | "stranger";
const CALLERS: Record<Caller, [ApiRole, string | undefined]> = { anon: ["anon", undefined], stranger: ["authenticated", stranger] };
const as = (caller: Caller, query: Parameters<typeof asApiRole>[3]) => asApiRole(sql, ...CALLERS[caller], query);

/** What each caller may do beyond nothing; `sees` is how many rows a read returns ("all": every row). */
interface Allowed { anon?: string[]; stranger?: string[]; sees?: "all" | 0; why: string }
const STAFF_READ = "store staff and admins read their stores' rows (RLS); a stranger sees none";
const SURFACE: Record<string, Allowed> = {
  // relations
  stores: { anon: ["SELECT"], stranger: ["SELECT"], sees: "all", why: "the public catalogue: shop names and slugs" },
  products: { anon: ["SELECT"], stranger: ["SELECT"], sees: "all", why: "the public catalogue: what is for sale, at what price" },
  store_members: { stranger: ["SELECT"], sees: 0, why: "a user reads their own memberships and their stores' staff (RLS)" },
  marketplace_admins: { stranger: ["SELECT"], sees: 0, why: "a user reads whether they are an admin (RLS)" },
  orders: { stranger: ["SELECT"], sees: 0, why: "customers read their own orders, staff their stores' (RLS)" },
  order_items: { stranger: ["SELECT"], sees: 0, why: "the items of the orders the reader may read (RLS)" },
  notifications: { stranger: ["SELECT"], sees: 0, why: "a user's own notifications, staff their stores' (RLS)" },
  automations: { stranger: ["SELECT", "INSERT", "UPDATE", "DELETE"], sees: 0, why: "store owners manage their automations: RLS lets them write only their stores' rows" },
  store_balances: { stranger: ["SELECT"], sees: 0, why: "a security-invoker view: store_ledger's RLS applies to the reader" },
  ...Object.fromEntries(["payments", "deliveries",
    "escrows", "store_ledger", "payouts", "support_tickets", "audit_log", "email_outbox", "order_attributions",
    "store_daily_metrics", "automation_runs"].map((t) => [t, { stranger: ["SELECT"], sees: 0 as const, why: STAFF_READ }])),
  // functions
  "is_marketplace_admin()": { stranger: ["EXECUTE"], why: "policy helper: answers about the caller only" },
  "is_store_member(uuid)": { stranger: ["EXECUTE"], why: "policy helper: answers about the caller only" },
  "my_store_ids()": { stranger: ["EXECUTE"], why: "policy helper: the caller's own stores" },
};

const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];
const relations = await sql<{ name: string; kind: string; rows: number }[]>`
  select c.relname as name, c.relkind as kind from pg_class c
  where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
    and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')
  order by 1`;
for (const r of relations) r.rows = (await sql.unsafe(`select count(*)::int as n from public."${r.name}"`))[0].n;
const sequences = await sql<{ name: string }[]>`
  select c.relname as name from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'S' order by 1`;
const functions = await sql<{ name: string; oid: number }[]>`
  select p.oid::regprocedure::text as name, p.oid::int as oid from pg_proc p
  where p.pronamespace = 'public'::regnamespace
    and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
  order by 1`;

const held = async (role: ApiRole, check: string, oid: string, privileges: string[]) =>
  (await sql.unsafe<{ p: string }[]>(`select p from unnest($1::text[]) p where ${check}($2, ${oid}, p)`, [privileges, role])).map((r) => r.p);

describe.each(["anon", "stranger"] as Caller[])("the Data API as %s", (caller) => {
  const role = CALLERS[caller][0];

  it.each(relations.map((r) => [r.name, r]))("relation %s: only what SURFACE allows, and the rows RLS lets through", async (name, r) => {
    const allowed = SURFACE[name]?.[caller] ?? [];
    expect(await held(role, "has_table_privilege", `'public.${name}'::regclass`, TABLE_PRIVILEGES)).toEqual(allowed);
    const read = await as(caller, async (tx) => (await tx.unsafe(`select count(*)::int as n from public."${name}"`))[0].n);
    if (!allowed.includes("SELECT")) expect(read).toBe("denied:42501");
    else if (SURFACE[name].sees === "all") expect([read, r.rows > 0]).toEqual([r.rows, true]);
    else expect(read).toBe(0);
    // Writes a grant allows must still be refused by RLS: nothing changes, nothing is added.
    if (allowed.includes("UPDATE")) expect(await as(caller, async (tx) => (await tx.unsafe(`update public."${name}" set created_at = created_at`)).count)).toBe(0);
    if (allowed.includes("DELETE")) expect(await as(caller, async (tx) => (await tx.unsafe(`delete from public."${name}"`)).count)).toBe(0);
    if (allowed.includes("INSERT")) expect(await as(caller, (tx) => tx.unsafe(`insert into public."${name}" default values`))).toBe("denied:42501");
    // And the two writes RLS cannot stop, tried on every table (a view refuses them for being a view first).
    if (r.kind !== "r" && r.kind !== "p") return;
    if (!allowed.includes("TRUNCATE")) expect(await as(caller, (tx) => tx.unsafe(`truncate public."${name}" cascade`))).toBe("denied:42501");
    if (!allowed.includes("INSERT")) expect(await as(caller, (tx) => tx.unsafe(`insert into public."${name}" default values`))).toBe("denied:42501");
  });

  it.each(sequences.map((s) => [s.name]))("sequence %s: no USAGE, SELECT or UPDATE, and nextval refused", async (name) => {
    expect(await held(role, "has_sequence_privilege", `'public.${name}'::regclass`, ["USAGE", "SELECT", "UPDATE"])).toEqual([]);
    expect(await as(caller, (tx) => tx`select nextval(${`public.${name}`})`)).toBe("denied:42501");
  });

  it.each(functions.map((f) => [f.name, f.oid]))("function %s: EXECUTE only where SURFACE allows", async (name, oid) => {
    expect(await held(role, "has_function_privilege", String(oid), ["EXECUTE"])).toEqual(SURFACE[name]?.[caller] ?? []);
  });
});

describe("what the allowed functions give a stranger", () => {
  const cases: [string, (tx: typeof sql) => Promise<unknown>, unknown][] = [
    ["is_marketplace_admin", (tx) => tx`select is_marketplace_admin() as v`, [{ v: false }]],
    ["is_store_member", (tx) => tx`select is_store_member(${shop.storeId}::uuid) as v`, [{ v: false }]],
    ["my_store_ids", (tx) => tx`select * from my_store_ids()`, []],
    ["monitor_routed_handlers", (tx) => tx`select feyxa.monitor_routed_handlers('order.created') as v`, [{ v: [] }]],
    ["monitor_owed_handlers", (tx) => tx`select feyxa.monitor_owed_handlers(${order.event_id}::uuid, 'order.created') as v`, [{ v: [] }]],
    ["monitor_route_steps", (tx) => tx`select feyxa.monitor_route_steps('order.created') as v`, [{ v: {} }]],
    ["monitor_retry_event", (tx) => tx`select feyxa.monitor_retry_event(gen_random_uuid(), ${order.event_id}::uuid)`, "denied:42501"],
    ["monitor_redrive_dead", (tx) => tx`select feyxa.monitor_redrive_dead(gen_random_uuid(), 'order.created', null)`, "denied:42501"],
    ["monitor_replay_event", (tx) => tx`select feyxa.monitor_replay_event(gen_random_uuid(), ${order.event_id}::uuid, 'x.y', true)`, "denied:42501"],
    ["retry_event", (tx) => tx`select feyxa.retry_event(gen_random_uuid(), ${order.event_id}::uuid)`, "denied:42501"],
    ["redrive_dead", (tx) => tx`select feyxa.redrive_dead(gen_random_uuid(), 'order.created')`, "denied:42501"],
    ["replay_event", (tx) => tx`select feyxa.replay_event(gen_random_uuid(), ${order.event_id}::uuid, 'x.y', true)`, "denied:42501"],
    ["discard_event", (tx) => tx`select feyxa.discard_event(gen_random_uuid(), ${order.event_id}::uuid, 'spam')`, "denied:42501"],
    ["cancel_event", (tx) => tx`select feyxa.cancel_event(gen_random_uuid(), ${order.event_id}::uuid, 'spam')`, "denied:42501"],
    ["bulk_retry", (tx) => tx`select feyxa.bulk_retry(gen_random_uuid(), '{}', array[${order.event_id}::uuid], null, null)`, "denied:42501"],
    ["bulk_redrive", (tx) => tx`select feyxa.bulk_redrive(gen_random_uuid(), '{}', array[${order.event_id}::uuid], null, null)`, "denied:42501"],
    ["bulk_discard", (tx) => tx`select feyxa.bulk_discard(gen_random_uuid(), '{}', array[${order.event_id}::uuid], null, null, 'spam')`, "denied:42501"],
    ["pause_route", (tx) => tx`select feyxa.pause_route(gen_random_uuid(), 'order.created', 'fintech.create_escrow', 'why')`, "denied:42501"],
    ["resume_route", (tx) => tx`select feyxa.resume_route(gen_random_uuid(), 'order.created', 'fintech.create_escrow')`, "denied:42501"],
    ["monitor_routes", (tx) => tx`select * from feyxa.monitor_routes(3600)`, []],
    ["monitor_route_waiting", (tx) => tx`select feyxa.monitor_route_waiting('order.created', 'fintech.create_escrow')`, "denied:42501"],
    ["monitor_route_policy", (tx) => tx`select * from feyxa.monitor_route_policy('fintech.create_escrow', 'order.created')`, []],
    ["monitor_retry_budget", (tx) => tx`select * from feyxa.monitor_retry_budget(${order.event_id}::uuid, 'order.created', 0, 3)`, []],
    ["error_fingerprint", (tx) => tx`select feyxa.error_fingerprint('no payout 12') as v`, [{ v: "no payout <n>" }]],
    ["reader_is_operator", (tx) => tx`select feyxa.reader_is_operator() as v`, [{ v: false }]],
    ["reader_tenants", (tx) => tx`select feyxa.reader_tenants() as v`, [{ v: [] }]],
    ["reader_tenant_labels", (tx) => tx`select * from feyxa.reader_tenant_labels()`, []],
    // A store's name is the public catalogue's (stores is readable by anon): nothing more.
    ["tenant_label", (tx) => tx`select feyxa.tenant_label(${shop.storeId}::uuid) as v`, [{ v: expect.any(String) }]],
  ];
  it.each(cases)("%s", async (_name, call, expected) => {
    expect(await as("stranger", call)).toEqual(expected);
  });

  it("the store's owner still gets the routing the monitor shows", async () => {
    const [row] = (await asApiRole(sql, "authenticated", owner, (tx) => tx`select feyxa.monitor_routed_handlers('order.created') as v`)) as { v: string[] }[];
    expect(row.v).toContain("fintech.create_escrow");
  });
});

describe("nobody reads a balance or orders in someone else's name", () => {
  it("anon reads no balance; a stranger none of this store's", async () => {
    expect(await as("anon", (tx) => tx`select * from store_balances`)).toBe("denied:42501");
    expect(await as("stranger", (tx) => tx`select * from store_balances`)).toEqual([]);
    expect(await asApiRole(sql, "authenticated", owner, (tx) => tx`select balance_minor::int from store_balances`)).toEqual([{ balance_minor: 2500 }]);
  });

  const victimOrders = async () => (await sql`select count(*)::int as n from orders where customer_id = ${customer}`)[0].n;

  it("in SQL: checkout() and the order tables refuse anon and a stranger", async () => {
    for (const caller of ["anon", "stranger"] as Caller[]) {
      expect(await as(caller, (tx) => tx`select * from checkout(${shop.storeId}::uuid, 'x@example.com', ${tx.json(items)}, 'card', '{}'::jsonb, ${customer}::uuid)`)).toBe("denied:42501");
      expect(await as(caller, (tx) => tx`insert into orders (store_id, customer_id, customer_email, order_number, total_minor, currency, payment_method)
        values (${shop.storeId}, ${customer}, 'x@example.com', 'FX-FORGED', 1, 'XOF', 'card')`)).toBe("denied:42501");
    }
    expect(await victimOrders()).toBe(1);
  });

  it("over HTTP: the checkout function takes the customer from a verified token only", async () => {
    const checkout = testFunctions(testBus(sql, engineHandlers())).checkout;
    const post = (body: unknown, authorization?: string) => checkout(new Request("http://localhost/functions/v1/checkout", {
      method: "POST", body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...(authorization ? { authorization: `Bearer ${authorization}` } : {}) },
    }));
    const cart = { store_id: shop.storeId, customer_email: "x@example.com", payment_method: "card", items };
    const forged = await token(customer, { secret: "not-the-project-secret-but-long-enough-to-sign" });
    const unsigned = `${btoa(JSON.stringify({ alg: "none", typ: "JWT" }))}.${btoa(JSON.stringify({ sub: customer, role: "authenticated", aud: "authenticated" }))}.`;
    expect((await post(cart, forged)).status).toBe(401);
    expect((await post(cart, unsigned)).status).toBe(401);
    expect((await post({ ...cart, customer_id: customer }, await token(stranger))).status).toBe(400); // no such field
    expect((await post({ ...cart, customer_id: customer })).status).toBe(400);
    const guest = await post(cart); // no token: a guest order, nobody's
    expect(guest.status).toBe(201);
    const mine = await post(cart, await token(stranger)); // a real token: the order is the token's user's
    expect(mine.status).toBe(201);
    const owners = await sql`select customer_id from orders where id in (${(await guest.json()).order_id}, ${(await mine.json()).order_id}) order by customer_id nulls first`;
    expect(owners.map((o) => o.customer_id)).toEqual([null, stranger]);
    expect(await victimOrders()).toBe(1);
  });
});
