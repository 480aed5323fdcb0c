/**
 * The functions that create what a client may retry, each with an Idempotency-Key
 * (the pipeline's rule, src/bus/functions/idempotency.ts): checkout (10 identical checkouts
 * at once with one key place one order, with one payment, one delivery and one order.created,
 * and give ten identical answers; another body under the key is a 422; a guest's key and a
 * signed-in buyer's never meet), automations' save, and the monitor's alert rules.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { openShop } from "../../support/marketplace.ts";
import { monitorClient, monitorGateway, person } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const gateway = monitorGateway(bus); // the functions, verifying the monitor tests' tokens
const shop = await openShop(sql, [{ name: "Chair", price: 45_000, stock: 40 }, { name: "Lamp", price: 9_000, stock: 20 }]);

const checkout = (body: unknown, headers: Record<string, string> = {}) =>
  gateway(new Request("http://localhost:54321/functions/v1/checkout", {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
  }));
const cart = (over: Record<string, unknown> = {}) => ({
  store_id: shop.storeId, customer_email: "ada@example.com", payment_method: "card",
  items: [{ product_id: shop.products.Chair, quantity: 1 }], ...over,
});
const count = async (table: "orders" | "payments" | "deliveries") => (await sql`select count(*)::int as n from ${sql(table)}`)[0].n as number;
const created = async () => (await sql`select count(*)::int as n from feyxa.events_log where event_type = 'order.created'`)[0].n as number;

describe("checkout with an Idempotency-Key", () => {
  it("10 identical checkouts at once with one key: one order, ten identical answers; another body with the key: 422", async () => {
    const before = { orders: await count("orders"), payments: await count("payments"), deliveries: await count("deliveries"), events: await created() };
    const key = crypto.randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, async () => {
      const response = await checkout(cart(), { "idempotency-key": key });
      return { status: response.status, body: await response.text() };
    }));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([201]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    const order = JSON.parse(answers[0].body);
    expect(order).toMatchObject({ order_id: expect.any(String), order_number: expect.stringMatching(/^FX-/), total_minor: 45_000 });
    expect(await count("orders")).toBe(before.orders + 1);
    expect(await count("payments")).toBe(before.payments + 1);
    expect(await count("deliveries")).toBe(before.deliveries + 1);
    expect(await created()).toBe(before.events + 1);

    const other = await checkout(cart({ items: [{ product_id: shop.products.Lamp, quantity: 2 }] }), { "idempotency-key": key });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ error: "idempotency_key_reused", field: "idempotency-key" });
    expect(await count("orders")).toBe(before.orders + 1);

    // Later, the same request with the key is still that order.
    const later = await checkout(cart(), { "idempotency-key": key });
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    expect(await later.json()).toEqual(order);
  });

  it("a guest's key and a signed-in buyer's never meet: the same key and body place one order for each", async () => {
    const buyer = await person(sql, "bea-idem@example.com");
    const key = crypto.randomUUID();
    const before = await count("orders");
    const asGuest = await (await checkout(cart(), { "idempotency-key": key })).json();
    const asBuyer = await (await checkout(cart(), { "idempotency-key": key, authorization: `Bearer ${buyer.token}` })).json();
    expect(asBuyer.order_id).not.toBe(asGuest.order_id);
    expect(await count("orders")).toBe(before + 2);
    const [row] = await sql`select customer_id from orders where id = ${asBuyer.order_id}`;
    expect(row.customer_id).toBe(buyer.id);
    // Another buyer with the same key gets their own order, not Bea's answer.
    const cy = await person(sql, "cy-idem@example.com");
    const asCy = await (await checkout(cart(), { "idempotency-key": key, authorization: `Bearer ${cy.token}` })).json();
    expect([asGuest.order_id, asBuyer.order_id]).not.toContain(asCy.order_id);
  });

  it("without a key, each checkout is an order, as before; a malformed key is a 400 naming the header", async () => {
    const before = await count("orders");
    await checkout(cart());
    await checkout(cart());
    expect(await count("orders")).toBe(before + 2);
    const bad = await checkout(cart(), { "idempotency-key": "k".repeat(300) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: "idempotency-key" });
    const inBody = await checkout(cart({ idempotency_key: uuid() }));
    expect(inBody.status).toBe(400);
    expect(await inBody.json()).toMatchObject({ field: "idempotency_key", message: expect.stringMatching(/Idempotency-Key header/) });
    expect(await count("orders")).toBe(before + 2);
  });
});

describe("the other functions that create: one thing per key", () => {
  it("automations: a retried save with its key saves one automation", async () => {
    const owner = await person(sql, "owner-idem@example.com");
    await sql`insert into store_members (store_id, user_id, role) values (${shop.storeId}, ${owner.id}, 'owner')`;
    const save = () => gateway(new Request("http://localhost:54321/functions/v1/automations", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}`, "idempotency-key": "save-1" },
      body: JSON.stringify({ store_id: shop.storeId, name: "thank big buyers", trigger_pattern: "order.created", reactions: [{ type: "notify", title: "Big order" }] }),
    }));
    const answers = await Promise.all([save(), save(), save()]);
    const bodies = await Promise.all(answers.map((a) => a.text()));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(new Set(bodies).size).toBe(1);
    expect((await sql`select count(*)::int as n from automations where name = 'thank big buyers'`)[0].n).toBe(1);
  });

  it("the monitor's alert rules: a retried create with its key makes one rule", async () => {
    const admin = await person(sql, "ops-idem@example.com", { admin: true });
    const client = monitorClient(gateway);
    const rule = { op: "create", name: "dead letters", kind: "dead_letters", threshold: 5 };
    const create = () => gateway(new Request("http://localhost:54321/functions/v1/event-monitor/alerts", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin.token}`, "idempotency-key": "rule-1" },
      body: JSON.stringify(rule),
    }));
    const [a, b] = await Promise.all([create(), create()]);
    expect(await a.text()).toBe(await b.text());
    expect((await sql`select count(*)::int as n from feyxa.alert_rules where name = 'dead letters'`)[0].n).toBe(1);
    expect((await client.post(admin, "/alerts", rule)).status).toBe(200); // without a key: a second rule, as asked
  });
});
