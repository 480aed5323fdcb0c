/**
 * Idempotency keys outlive the retention purge (docs/reliability.md, "Idempotency keys and
 * retention"): a purged event's key is kept until idempotency_horizon after the event was
 * created, and a re-emit of it, by a buyer's re-ask or by the server, is a duplicate of the
 * original, with no second email; past the horizon it is forgotten and runs again. The
 * purge moves keys in the same statement as its delete, so a re-emit racing it slips
 * nothing through; both the purge and the forgetting go in bounded batches.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { useDatabase } from "../support/database.ts";
import { testBus, uuid } from "../support/bus.ts";
import { drain, openShop } from "../support/marketplace.ts";
import { TEST_SECRET_KEY, testFunctions, token } from "../support/auth.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const gateway = createGateway(testFunctions(bus));
const call = (path: string, headers: Record<string, string>, body?: unknown) =>
  gateway(new Request(`http://localhost/functions/v1/${path}`, body === undefined ? { headers } : {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
  }));
const buyer = uuid();
const buyerEmail = `buyer-${buyer.slice(0, 8)}@example.com`;
await sql`insert into auth.users (id, email) values (${buyer}, ${buyerEmail})`;
const asBuyer = async () => ({ authorization: `Bearer ${await token(buyer)}` });
const asServer = { apikey: TEST_SECRET_KEY };
const shop = await openShop(sql, [{ name: "Pot", price: 300, stock: 1000 }]);

/** A buyer's order, checked out and fully processed (its confirmation sent). */
async function completedOrder(): Promise<{ orderId: string; eventId: string }> {
  const [order] = await sql<{ order_id: string; event_id: string }[]>`select * from checkout(${shop.storeId}::uuid, ${buyerEmail},
    ${sql.json([{ product_id: shop.products.Pot, quantity: 1 }])}, 'card', '{}'::jsonb, ${buyer}::uuid)`;
  await drain(bus);
  return { orderId: order.order_id, eventId: order.event_id };
}

/** Ages an event (and so makes it purgeable): created and completed `days` ago. */
const age = (eventId: string, days: number) =>
  sql`update feyxa.events_log set created_at = now() - make_interval(days => ${days}), processed_at = now() - make_interval(days => ${days})
      where id = ${eventId}::uuid and status = 'completed' returning id`;

const purgeAll = async (batch = 10000) => {
  const counts: number[] = [];
  for (let n = -1; n !== 0;) counts.push((n = (await sql`select feyxa.purge_completed_events(${batch}) as n`)[0].n));
  return counts;
};
const emails = async () => (await sql`select count(*)::int as n from email_outbox where to_email = ${buyerEmail}`)[0].n;
const orderCreated = (orderId: string) => ({ event_type: "order.created", aggregate_type: "order", aggregate_id: orderId, tenant_id: shop.storeId, payload: {} });

describe("idempotency keys and retention", () => {
  it("a purged order.created is still a duplicate: re-asked by the buyer, re-emitted by the server, no second email", async () => {
    const { orderId, eventId } = await completedOrder();
    const mailed = await emails();
    expect(await age(eventId, 40)).toHaveLength(1);
    await purgeAll();
    expect(await sql`select id from feyxa.events_log where id = ${eventId}::uuid`).toHaveLength(0);

    const asked = await call("process-event", await asBuyer(), orderCreated(orderId));
    expect(asked.status).toBe(200);
    expect(await asked.json()).toMatchObject({ event_id: eventId, duplicate: true, processed: false, status: "purged" });
    const [{ payload }] = await sql`select order_created_payload(${orderId}::uuid) as payload`;
    const reemitted = await call("process-event", asServer, { ...orderCreated(orderId), payload, idempotency_key: `order.created:${orderId}` });
    expect(await reemitted.json()).toMatchObject({ event_id: eventId, duplicate: true, status: "purged" });
    // In SQL: emit_event (its default key for a once-per-aggregate type) and emit_events.
    const [single] = await sql`select * from feyxa.emit_event_report('order.created', 'order', ${orderId}::uuid, ${shop.storeId}::uuid, '{}'::jsonb)`;
    expect(single).toMatchObject({ event_id: eventId, inserted: false });
    const batch = await sql`select * from feyxa.emit_events(${sql.json([orderCreated(orderId), { ...orderCreated(orderId), idempotency_key: `order.created:${orderId}` }])})`;
    expect(batch.map((r) => [r.event_id, r.inserted])).toEqual([[eventId, false], [eventId, false]]);

    await drain(bus);
    expect(await sql`select id from feyxa.events_log where aggregate_id = ${orderId}::uuid and event_type = 'order.created'`).toHaveLength(0);
    expect(await emails()).toBe(mailed);
  });

  it("an order whose events were purged still answers in order-status and the monitor, never 5xx", async () => {
    const { orderId, eventId } = await completedOrder();
    await sql`update feyxa.events_log set created_at = now() - interval '40 days', processed_at = now() - interval '40 days'
              where (aggregate_id = ${orderId}::uuid or payload ->> 'order_id' = ${orderId}) and status = 'completed'`;
    await purgeAll();
    const status = await call(`order-status?order_id=${orderId}`, {});
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ order: { id: orderId }, events: [] });
    const admin = uuid();
    await sql`insert into auth.users (id, email) values (${admin}, ${`admin-${admin.slice(0, 8)}@example.com`})`;
    await sql`insert into marketplace_admins (user_id) values (${admin})`;
    const asAdmin = { authorization: `Bearer ${await token(admin)}` };
    const listed = await call(`event-monitor/events?q=${orderId}`, asAdmin);
    expect(listed.status).toBe(200);
    expect((await listed.json()).events).toEqual([]);
    expect((await call(`event-monitor/events/${eventId}`, asAdmin)).status).toBe(404);
    // Asked by id (not re-emitted), a purged event is simply not there any more.
    expect((await call("process-event", asServer, { event_id: eventId })).status).toBe(404);
  });

  it("past the horizon a key is forgotten (by the purge, in bounded batches) and the fact runs again", async () => {
    // A kept key whose event is older than the horizon: forgotten, and re-emitted it is new.
    const { orderId, eventId } = await completedOrder();
    await age(eventId, 40);
    await purgeAll();
    await sql`update feyxa.purged_event_keys set created_at = now() - interval '91 days' where event_id = ${eventId}::uuid`;
    // 250 more expired keys: the forgetting goes 100 at a time, as the purge does.
    await sql`insert into feyxa.purged_event_keys (idempotency_key, event_id, event_type, created_at)
              select 'old-' || i, gen_random_uuid(), 'old.event', now() - interval '100 days' from generate_series(1, 250) i`;
    expect(await purgeAll(100)).toEqual([100, 100, 51, 0]);
    expect(await sql`select 1 from feyxa.purged_event_keys where created_at < now() - interval '90 days'`).toHaveLength(0);
    const mailed = await emails();
    const again = await call("process-event", await asBuyer(), orderCreated(orderId));
    expect(again.status).toBe(201);
    expect(await again.json()).toMatchObject({ duplicate: false, status: "completed" });
    expect(await emails()).toBe(mailed + 1);

    // An event already past the horizon when purged is not kept at all; a shorter setting
    // forgets sooner.
    const late = await completedOrder();
    await age(late.eventId, 120);
    await purgeAll();
    expect(await sql`select 1 from feyxa.purged_event_keys where event_id = ${late.eventId}::uuid`).toHaveLength(0);
    await sql`update feyxa.event_bus_settings set idempotency_horizon = interval '0'`;
    try {
      const [kept] = await sql`select count(*)::int as n from feyxa.purged_event_keys`;
      expect(kept.n).toBeGreaterThan(0);
      await purgeAll();
      expect((await sql`select count(*)::int as n from feyxa.purged_event_keys`)[0].n).toBe(0);
    } finally {
      await sql`update feyxa.event_bus_settings set idempotency_horizon = default`;
    }
  });

  it("a re-emit racing the purge of its key is a duplicate: the purge moves the key in the transaction of its delete", async () => {
    for (const emit of ["single", "batch"] as const) {
      const { orderId, eventId } = await completedOrder();
      await age(eventId, 40);
      const purge = await sql.reserve();
      try {
        await purge`begin`;
        expect((await purge`select feyxa.purge_completed_events(10000) as n`)[0].n).toBeGreaterThan(0);
        // The re-emit meets the key's row while the purge holds its delete, and waits for it.
        const key = `order.created:${orderId}`;
        const reemit = emit === "single"
          ? sql`select event_id, inserted from feyxa.emit_event_report('order.created', 'order', ${orderId}::uuid, ${shop.storeId}::uuid, '{}'::jsonb, ${key})`
          : sql`select event_id, inserted from feyxa.emit_events(${sql.json([{ ...orderCreated(orderId), idempotency_key: key }])})`;
        const settled = reemit.then((rows) => rows);
        await waitForLockWait();
        await purge`commit`;
        expect(await settled).toEqual([{ event_id: eventId, inserted: false }]);
      } finally {
        purge.release();
      }
      expect(await sql`select id from feyxa.events_log where idempotency_key = ${`order.created:${orderId}`}`).toHaveLength(0);
      expect(await sql`select 1 from feyxa.event_queue q left join feyxa.events_log e on e.id = q.event_id where e.id is null`).toHaveLength(0);
    }
  });
});

/** Until a backend of this database waits on a lock (the re-emit behind the purge), at most 10 s. */
async function waitForLockWait(): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 10_000;) {
    const [w] = await sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
    if (w.n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the re-emit never waited for the purge");
}
