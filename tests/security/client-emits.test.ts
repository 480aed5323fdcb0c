/**
 * Client-emittable events carry no client-written facts (docs/security.md): for every type
 * a signed-in buyer may emit through process-event, what is stored is derived from the
 * database, never from the buyer's payload; no mail goes to an address the buyer writes;
 * the buyer chooses no key of the server's, so the server's later emit of that fact is
 * processed; and a tenant_id (the event's store) that names no store is a 400, for the server too.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { clientEmittable } from "../../src/marketplace/engines/authorize.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { useDatabase } from "../support/database.ts";
import { testBus, uuid } from "../support/bus.ts";
import { drain, openShop } from "../support/marketplace.ts";
import { TEST_SECRET_KEY, testFunctions, token } from "../support/auth.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const gateway = createGateway(testFunctions(bus));
const emit = async (body: Record<string, unknown>, headers: Record<string, string>) =>
  gateway(new Request("http://localhost/functions/v1/process-event", {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
  }));
const buyer = uuid();
await sql`insert into auth.users (id, email) values (${buyer}, 'buyer@example.com')`;
const asBuyer = async () => ({ authorization: `Bearer ${await token(buyer)}` });
const asServer = { apikey: TEST_SECRET_KEY };
const shop = await openShop(sql, [{ name: "Pot", price: 300, stock: 100 }]);
const ATTACKER = "attacker@evil.test";

interface Aggregate {
  id: string;
  /** The body a hostile buyer sends: valid for the catalog, every fact written by them. */
  forged: Record<string, unknown>;
  /** Server-owned keys of facts the server will emit later, once per aggregate. */
  serverKeys: string[];
  /** Makes the server emit those facts. */
  serverEmits: () => Promise<void>;
}

/** For each client-emittable type: an aggregate of the buyer's, as the marketplace makes it. */
const fixtures: Record<string, () => Promise<Aggregate>> = {
  "order.created": async () => {
    // A product of its own, in stock; the server's emits sell it out first, so that the server
    // cancels the order (order.cancelled) when it takes the stock.
    const [product] = await sql<{ id: string }[]>`insert into products (store_id, name, price_minor, currency, stock)
      values (${shop.storeId}, 'Jar', 700, 'XOF', 1) returning id`;
    const [order] = await sql<{ order_id: string }[]>`select * from checkout(${shop.storeId}::uuid, 'buyer@example.com',
      ${sql.json([{ product_id: product.id, quantity: 1 }])}, 'card', '{}'::jsonb, ${buyer}::uuid)`;
    const [payment] = await sql<{ id: string }[]>`select id from payments where order_id = ${order.order_id}`;
    return {
      id: order.order_id,
      forged: {
        event_type: "order.created", aggregate_type: "order", aggregate_id: order.order_id, tenant_id: shop.storeId,
        payload: { order_number: "YOU WON A PRIZE http://evil.test", total_minor: 0, currency: "XOF", customer_email: ATTACKER,
          items: [{ product_id: shop.products.Pot, quantity: 1, unit_price_minor: 0 }], payment_method: "card" },
      },
      serverKeys: [`order.cancelled:${order.order_id}`, `payment.paid:${payment.id}`],
      serverEmits: async () => {
        await sql`update products set stock = 0 where id = ${product.id}`;
        await drain(bus); // order.created: out of stock, the server emits order.cancelled
        await sql`update payments set status = 'paid' where id = ${payment.id}`; // payment.paid, by trigger
        await drain(bus);
      },
    };
  },
};

const eventsOf = (aggregateId: string) =>
  sql<{ id: string; event_type: string; idempotency_key: string; status: string; payload: Record<string, unknown> }[]>`
    select id, event_type, idempotency_key, status, payload from feyxa.events_log where aggregate_id = ${aggregateId}::uuid order by created_at`;

describe("client-emittable events carry no client-written facts", () => {
  it("every client-emittable type has a fixture here", () => {
    expect([...clientEmittable].sort()).toEqual(Object.keys(fixtures).sort());
  });

  for (const type of clientEmittable) {
    it(`${type}: a buyer's payload and new key make no second event; they get the server's back`, async () => {
      const agg = await fixtures[type]();
      const [original] = await eventsOf(agg.id);
      for (const key of [undefined, `fresh-${uuid()}`]) {
        const res = await emit({ ...agg.forged, ...(key ? { idempotency_key: key } : {}) }, await asBuyer());
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ event_id: original.id, duplicate: true });
      }
      const events = await eventsOf(agg.id);
      expect(events.filter((e) => e.event_type === type)).toHaveLength(1);
      expect(JSON.stringify(events.map((e) => e.payload))).not.toContain(ATTACKER);
    });

    it(`${type}: re-emitted by a buyer (its event gone), it is made from the stored aggregate, not the payload`, async () => {
      const agg = await fixtures[type]();
      const [original] = await eventsOf(agg.id);
      await sql`delete from feyxa.events_log where id = ${original.id}`;
      const res = await emit({ ...agg.forged, idempotency_key: `fresh-${uuid()}` }, await asBuyer());
      expect(res.status).toBe(201);
      const [again] = await eventsOf(agg.id);
      expect(again.payload).toEqual(original.payload);
      expect(again.idempotency_key).toBe(original.idempotency_key);
    });

    it(`${type}: no mail to an address the buyer writes`, async () => {
      const agg = await fixtures[type]();
      await sql`delete from feyxa.events_log where aggregate_id = ${agg.id}::uuid`; // even where the buyer's emit is new
      for (let i = 0; i < 3; i++) await emit({ ...agg.forged, idempotency_key: `mail-${uuid()}` }, await asBuyer());
      await drain(bus);
      const mail = await sql<{ to_email: string; html: string }[]>`
        select o.to_email, o.html from email_outbox o join feyxa.events_log e on o.dedupe_key like e.id || ':%'
        where e.aggregate_id = ${agg.id}::uuid`;
      expect(mail.length).toBeGreaterThan(0); // the confirmation went out, to the order's address only
      for (const m of mail) {
        expect(m.to_email).toBe("buyer@example.com");
        expect(m.html).not.toContain("evil.test");
      }
    });

    it(`${type}: a buyer cannot squat the server's keys; the server's later emits are processed`, async () => {
      const agg = await fixtures[type]();
      for (const key of agg.serverKeys) {
        const res = await emit({ ...agg.forged, idempotency_key: key }, await asBuyer());
        expect(res.status).toBeLessThan(500);
      }
      await agg.serverEmits();
      const events = await eventsOf(agg.id);
      for (const key of agg.serverKeys) {
        const [event] = await sql<{ event_type: string; status: string }[]>`select event_type, status from feyxa.events_log where idempotency_key = ${key}`;
        expect(event, key).toMatchObject({ event_type: key.slice(0, key.indexOf(":")), status: "completed" });
      }
      expect(events.filter((e) => e.event_type === type)).toHaveLength(1);
    });

    it(`${type}: a tenant_id that names no store is a 400 naming tenant_id`, async () => {
      const agg = await fixtures[type]();
      const before = (await eventsOf(agg.id)).length;
      const res = await emit({ ...agg.forged, tenant_id: uuid() }, await asBuyer());
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ field: "tenant_id" });
      expect(await eventsOf(agg.id)).toHaveLength(before);
    });
  }

  it("the server's emit with a tenant_id that names no store is a 400 naming tenant_id, and stores nothing", async () => {
    const aggregateId = uuid();
    const res = await emit({ event_type: "shop.pinged", aggregate_type: "shop", aggregate_id: aggregateId, tenant_id: uuid(), payload: {} }, asServer);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: "tenant_id" });
    expect(await eventsOf(aggregateId)).toEqual([]);
    const ok = await emit({ event_type: "shop.pinged", aggregate_type: "shop", aggregate_id: aggregateId, tenant_id: shop.storeId, payload: {} }, asServer);
    expect(ok.status).toBe(201);
  });

  it("still reads 0.1.0's store_id as the tenant, and refuses a store_id that contradicts tenant_id", async () => {
    const aggregateId = uuid();
    const old = await emit({ event_type: "shop.pinged", aggregate_type: "shop", aggregate_id: aggregateId, store_id: shop.storeId, payload: {} }, asServer);
    expect(old.status).toBe(201);
    const [stored] = await sql`select tenant_id from feyxa.events_log where aggregate_id = ${aggregateId}::uuid`;
    expect(stored.tenant_id).toBe(shop.storeId);
    const both = await emit({ event_type: "shop.pinged", aggregate_type: "shop", aggregate_id: uuid(), tenant_id: shop.storeId, store_id: uuid(), payload: {} }, asServer);
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ field: "store_id" });
  });
});
