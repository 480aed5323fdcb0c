/**
 * Automations: saved by a store owner (validated, under RLS), run by the bus once per
 * matching event, with their reactions' parameters filled from the event; chains stop;
 * and three dispatcher processes share a backlog without running anything twice.
 */
import { describe, expect, it } from "vitest";
import { parseAllowList } from "../../../src/bus/outbound.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createAutomationsPoll } from "../../../src/marketplace/functions/automations-poll.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { useDatabase } from "../../support/database.ts";
import { testBus, uuid } from "../../support/bus.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";
import { TEST_SECRET_KEY, testAuth, testFunctions, token } from "../../support/auth.ts";
import { sleep, startDispatcher } from "../../faults/support/processes.ts";

const db = await useDatabase();
const { sql } = db;
// The test endpoints are on loopback, which only an allow-list opens: to saving (the database's) and to calling (the bus's).
await sql`update feyxa.event_bus_settings set outbound_allow = '{127.0.0.1}'`;
const bus = testBus(sql, engineHandlers({ outbound: { allow: parseAllowList("127.0.0.1") } }));
const gateway = createGateway(testFunctions(bus));
const [owner, staff] = [uuid(), uuid()];
await sql`insert into auth.users (id, email) values (${owner}, 'owner@example.com'), (${staff}, 'staff@example.com')`;
const shop = await openShop(sql, [{ name: "Rug", price: 60_000, stock: 1000 }, { name: "Pin", price: 500, stock: 1000 }]);
await sql`insert into store_members (store_id, user_id, role) values (${shop.storeId}, ${owner}, 'owner'), (${shop.storeId}, ${staff}, 'staff')`;

const save = async (body: unknown, who = owner) =>
  gateway(new Request("http://localhost/functions/v1/automations", {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${await token(who)}` }, body: JSON.stringify(body),
  }));

const bigOrders = {
  store_id: shop.storeId,
  name: "Big orders",
  trigger_pattern: "order.created",
  trigger_filter: { total_minor: { gte: 50_000 }, payment_method: "card" },
  reactions: [
    { type: "emit", event_type: "store.big_order", payload: { order_number: "{{payload.order_number}}", total: "{{payload.total_minor}}" } },
    { type: "notify", title: "Big order {{payload.order_number}}", body: "{{payload.total_minor}} {{payload.currency}}" },
    { type: "email", to: "{{payload.customer_email}}", subject: "A gift for order {{payload.order_number}}", html: "<p>Thank you!</p>" },
  ],
};

describe("saving an automation", () => {
  it("an owner saves a valid one; staff may not; bad ones are refused naming the field", async () => {
    const res = await save(bigOrders);
    expect(res.status).toBe(201);
    expect((await save(bigOrders, staff)).status).toBe(403);
    const anonymous = await gateway(new Request("http://localhost/functions/v1/automations", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
    expect(anonymous.status).toBe(401);
    const forged = await save({ ...bigOrders, reactions: [{ type: "emit", event_type: "payment.paid", payload: {} }] });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ field: "reactions.0.event_type" });
    const badFilter = await save({ ...bigOrders, trigger_filter: { "total minor": 1 } });
    expect(badFilter.status).toBe(400);
    const [sub] = await sql`select is_active from feyxa.event_subscriptions where event_pattern = 'order.created' and handler_name = 'automations.run'`;
    expect(sub.is_active).toBe(true); // routed by the bus now
  });
});

describe("running automations", () => {
  it("runs once per matching event, fills the reactions, ignores the others", async () => {
    const big = await checkout(sql, shop, { Rug: 1 }, { email: "vip@example.com" });
    const small = await checkout(sql, shop, { Pin: 1 });
    await drain(bus);
    await drain(bus);
    const runs = await sql`select event_id, status, reactions_done from automation_runs`;
    expect(runs).toEqual([{ event_id: big.event_id, status: "success", reactions_done: 3 }]);
    const [emitted] = await sql`select payload, tenant_id, aggregate_id, status from feyxa.events_log where event_type = 'store.big_order'`;
    expect(emitted).toMatchObject({ tenant_id: shop.storeId, aggregate_id: big.order_id, status: "completed" });
    expect(emitted.payload).toMatchObject({ order_number: big.order_number, total: "60000", _automation: { depth: 1, source_event_id: big.event_id } });
    const [note] = await sql`select title, body from notifications where kind = 'automation'`;
    expect(note).toEqual({ title: `Big order ${big.order_number}`, body: "60000 XOF" });
    expect((await sql`select count(*)::int as n from email_outbox where to_email = 'vip@example.com' and subject like 'A gift%'`)[0].n).toBe(1);
    expect((await sql`select count(*)::int as n from automation_runs where event_id = ${small.event_id}`)[0].n).toBe(0);

    // Run again for the same event: nothing new.
    const again = await bus.claimOne(big.event_id);
    expect(again).toBeUndefined(); // completed: not due
    await sql`update feyxa.events_log set status = 'failed', next_retry_at = now() where id = ${big.event_id}`;
    await sql`select feyxa.enqueue_events(array[${big.event_id}]::uuid[])`;
    await drain(bus);
    expect((await sql`select count(*)::int as n from feyxa.events_log where event_type = 'store.big_order'`)[0].n).toBe(1);
    expect((await sql`select count(*)::int as n from notifications where kind = 'automation'`)[0].n).toBe(1);
  });

  it("stops a chain of automations that trigger each other", async () => {
    expect((await save({ store_id: shop.storeId, name: "Echo", trigger_pattern: "store.*",
      reactions: [{ type: "emit", event_type: "store.echo", payload: { n: "{{payload.n}}" } }] })).status).toBe(201);
    await bus.emit({ event_type: "store.ping", aggregate_type: "store", aggregate_id: uuid(), tenant_id: shop.storeId, payload: { n: 1 } });
    await drain(bus);
    const echoes = await sql`select (payload -> '_automation' ->> 'depth')::int as depth from feyxa.events_log where event_type = 'store.echo' order by 1`;
    expect(echoes.map((e) => e.depth)).toEqual([1, 2, 3]);
    const [stopped] = await sql`select error_message from automation_runs where status = 'skipped'`;
    expect(stopped.error_message).toContain("deeper than 3");
    await sql`update automations set is_active = false where name = 'Echo'`;
  });
});

describe("horizontal scale", () => {
  it("three dispatcher processes share a backlog of 300 orders; no automation or handler runs twice", async () => {
    await sql`update feyxa.event_bus_settings set retry_base = interval '200 milliseconds', retry_factor = 1, retry_jitter = 0`;
    await sql`
      select checkout(${shop.storeId}::uuid, 'buyer' || i || '@example.com',
                      jsonb_build_array(jsonb_build_object('product_id', case when i % 2 = 0 then ${shop.products.Rug} else ${shop.products.Pin} end, 'quantity', 1)),
                      'card')
      from generate_series(1, 300) i`;
    const workers = [startDispatcher(db.url), startDispatcher(db.url), startDispatcher(db.url)];
    await Promise.all(workers.map((w) => w.ready));
    await expect.poll(async () => (await sql`select count(*)::int as n from feyxa.events_log where status not in ('completed', 'dead')`)[0].n,
      { timeout: 60_000, interval: 250 }).toBe(0);
    for (const w of workers) w.child.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    await sleep(10);

    const [facts] = await sql`
      select (select count(*)::int from automation_runs r join automations a on a.id = r.automation_id
              where a.name = 'Big orders' and r.status = 'success') as runs,
             (select count(*)::int from orders where total_minor >= 50000) as big_orders,
             (select count(*)::int from feyxa.events_log where event_type = 'store.big_order') as emitted,
             (select count(*)::int from notifications where kind = 'automation') as notes,
             (select count(*)::int from (select event_id, handler_name from feyxa.event_handlers_log where status = 'success'
                                         group by 1, 2 having count(*) > 1) twice) as twice`;
    expect(facts.runs).toBe(facts.big_orders);
    expect(facts.emitted).toBe(facts.big_orders);
    expect(facts.notes).toBe(facts.big_orders);
    expect(facts.twice).toBe(0);
    expect(facts.big_orders).toBe(151); // 150 of the backlog, and the one of the test above
  }, 120_000);
});

describe("polling triggers", () => {
  it("fire once per new item of the endpoint, however often it serves it again", async () => {
    const { createServer } = await import("node:http");
    let items = [{ id: 1, title: "first review" }, { id: 2, title: "second review" }];
    const server = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: items })));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as { port: number };
    try {
      const res = await save({
        store_id: shop.storeId, name: "New reviews", trigger_kind: "poll",
        poll: { url: `http://127.0.0.1:${port}/reviews`, interval_seconds: 10, items_path: "data" },
        trigger_filter: { title: { contains: "review" } },
        reactions: [{ type: "notify", title: "New review: {{payload.item.title}}" }],
      });
      expect(res.status).toBe(201);
      const { id } = await res.json();
      const poller = createAutomationsPoll(bus, { auth: testAuth, env: () => ({ FEYXA_OUTBOUND_ALLOW: "127.0.0.1" }) });
      const poll = async () => (await poller(new Request("http://x/", { method: "POST", headers: { apikey: TEST_SECRET_KEY } }))).json();
      expect(await poll()).toMatchObject({ polled: 1, new_items: 2 });
      expect(await poll()).toMatchObject({ polled: 0 }); // not due again for 10 s
      items = [{ id: 2, title: "second review" }, { id: 3, title: "third review" }];
      await sql`update automations set last_polled_at = now() - interval '1 minute' where id = ${id}`;
      expect(await poll()).toMatchObject({ polled: 1, new_items: 1 });
      await drain(bus);
      const notes = await sql`select title from notifications where kind = 'automation' and title like 'New review%' order by title`;
      expect(notes.map((n) => n.title)).toEqual(["New review: first review", "New review: second review", "New review: third review"]);
      const anonymous = await poller(new Request("http://x/", { method: "POST" }));
      expect(anonymous.status).toBe(401);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("refuses a poll of another machine over plain http", async () => {
    const res = await save({ store_id: shop.storeId, name: "Bad poll", trigger_kind: "poll",
      poll: { url: "http://10.1.2.3/feed", interval_seconds: 60 }, reactions: [{ type: "notify", title: "x" }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: "poll.url" });
  });
});

describe("webhook reactions", () => {
  it("deliver a signed Standard Webhook, verified by an independent implementation, once", async () => {
    const { Webhook } = await import("standardwebhooks");
    const { createServer } = await import("node:http");
    const secret = `whsec_${Buffer.from("automation-webhook-test-secret-32bytes!!").toString("base64")}`;
    const received: { id: string; verified: unknown }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const headers = { "webhook-id": String(req.headers["webhook-id"]), "webhook-timestamp": String(req.headers["webhook-timestamp"]), "webhook-signature": String(req.headers["webhook-signature"]) };
        try {
          received.push({ id: headers["webhook-id"], verified: new Webhook(secret).verify(body, headers) });
          res.writeHead(204).end();
        } catch {
          res.writeHead(401).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as { port: number };
    try {
      const res = await save({ store_id: shop.storeId, name: "Tell the ERP", trigger_pattern: "store.erp_ping",
        reactions: [{ type: "webhook", url: `http://127.0.0.1:${port}/hook`, payload: { ref: "{{payload.ref}}" } }] });
      expect(res.status).toBe(201);
      const { id } = await res.json();
      await sql`select feyxa.add_webhook_secret(${`automation.${id}`}, ${secret})`;
      await bus.emit({ event_type: "store.erp_ping", aggregate_type: "store", aggregate_id: uuid(), tenant_id: shop.storeId, payload: { ref: "R-42" } });
      await drain(bus);
      expect(received).toHaveLength(1);
      expect(received[0].verified).toMatchObject({ type: "automation.webhook", automation_id: id, data: { ref: "R-42" } });
      const [run] = await sql`select status from automation_runs where automation_id = ${id}`;
      expect(run.status).toBe("success");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
