/**
 * The attacker's playbook, end to end through the HTTP functions and the SQL the Data API
 * exposes, as anon and as a signed-in buyer. Each attack is held by one test; where one
 * existed already it is named here rather than written twice:
 *
 * | attack | held by |
 * |---|---|
 * | forged, expired, not-yet-valid, wrong-audience, alg-none service tokens | callers.test.ts "retry-failed-events answers only to the server" |
 * | key confusion (HS256 over the public key), unknown or borrowed kid, `none` spellings, on every function | adversarial-tokens.test.ts |
 * | hosted key formats: another project's publishable key, a broken key dictionary | tests/bus/auth-config.test.ts |
 * | another store's data through the monitor | here: "a store owner reads nothing of another store through the monitor" |
 * | another store's data through the Data API (every table, view, function; six real roles) | rls-matrix.test.ts, api-surface.test.ts |
 * | an order watched through order-status by whoever holds its id | here: "order-status shows an order to whoever holds its id, and nothing personal" |
 * | confirming another's delivery (a buyer, a guest with the wrong email) | callers.test.ts "only they (or the server) confirm it"; tests/marketplace/functions/checkout.test.ts "a stranger's email (404)" |
 * | checkout in someone else's name (HTTP and SQL) | api-surface.test.ts "nobody reads a balance or orders in someone else's name" |
 * | order.created for an order not theirs, or emitted by anon | callers.test.ts "a buyer may ask for their own order's order.created only"; here: "anon emits nothing" |
 * | server-only types (payment.paid, payout.requested), monitor actions | callers.test.ts "nobody but the server emits"; tests/bus/functions/event-monitor-actions.test.ts "are for admins only" |
 * | key squatting, mail relay, client-written facts | client-emits.test.ts "a buyer cannot squat the server's keys", "no mail to an address the buyer writes" |
 * | SSRF (loopback, link-local, private ranges, redirects, DNS) | ssrf.test.ts |
 * | hostile input anywhere (NUL, depth, numbers, methods, content types, SQL arguments) | fuzz*.test.ts, hostile-json.test.ts |
 * | oversized and slow bodies (slowloris) against the real gateway | here: "an oversized body", "a body trickled byte by byte"; the adapter alone: tests/local/node-http.test.ts |
 */
import { Agent, request as httpRequest } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { serveNode } from "../../src/local/node-http.ts";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { testFunctions, token } from "../support/auth.ts";
import { testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";
import { rowCounts } from "../support/fuzz.ts";
import { openShop } from "../support/marketplace.ts";

const { sql } = await useDatabase();
const gateway = createGateway(testFunctions(testBus(sql, engineHandlers())));
const [ownerA, buyer] = [uuid(), uuid()];
for (const id of [ownerA, buyer]) await sql`insert into auth.users (id, email) values (${id}, ${`${id}@example.com`})`;
const [shopA, shopB] = [await openShop(sql, [{ name: "A", price: 100, stock: 50 }]), await openShop(sql, [{ name: "B", price: 100, stock: 50 }])];
await sql`insert into store_members (store_id, user_id, role) values (${shopA.storeId}, ${ownerA}, 'owner')`;
const [orderB] = await sql`select * from checkout(${shopB.storeId}::uuid, 'victim@example.com',
  ${sql.json([{ product_id: shopB.products.B, quantity: 1 }])}, 'card', '{"utm_source":"x"}'::jsonb, ${buyer}::uuid)`;
const [eventB] = await sql`select id, idempotency_key, aggregate_id from feyxa.events_log where id = ${orderB.event_id}`;
const [orderA] = await sql`select * from checkout(${shopA.storeId}::uuid, 'a@example.com',
  ${sql.json([{ product_id: shopA.products.A, quantity: 1 }])}, 'card', '{}'::jsonb, null)`;
const call = async (path: string, init: RequestInit = {}) => {
  const res = await gateway(new Request(`http://localhost/functions/v1/${path}`, init));
  return { status: res.status, body: await res.json() };
};
const bearer = async (user: string) => ({ authorization: `Bearer ${await token(user)}` });

describe("another store's data", () => {
  it("a store owner reads nothing of another store through the monitor, whatever the filter or search", async () => {
    const headers = await bearer(ownerA);
    for (const query of [`tenant=${shopB.storeId}`, `q=${eventB.id}`, `q=${eventB.aggregate_id}`, `q=${encodeURIComponent(eventB.idempotency_key)}`]) {
      const { status, body } = await call(`event-monitor/events?${query}`, { headers });
      expect([query, status, body.events]).toEqual([query, 200, []]);
    }
    const own = await call("event-monitor/events?type=order.*", { headers }); // their own store's, and only those
    expect(own.body.events.map((e: { id: string }) => e.id)).toEqual([orderA.event_id]);
    expect((await call(`event-monitor/events/${eventB.id}`, { headers })).status).toBe(404);
    const stats = await call(`event-monitor/stats?tenant=${shopB.storeId}&window=24h`, { headers });
    expect(JSON.stringify(stats.body)).not.toMatch(/order\.created/);
  });

  it("order-status shows an order to whoever holds its id, and nothing personal: no email, customer, attribution or payload", async () => {
    for (const headers of [{}, await bearer(ownerA)]) {
      const { status, body } = await call(`order-status?order_id=${orderB.order_id}`, { headers });
      expect(status).toBe(200);
      expect(JSON.stringify(body)).not.toMatch(/victim@example\.com|utm_source|customer_id|payload/);
      expect(JSON.stringify(body)).not.toContain(buyer);
    }
    // Nothing but an order's id finds it: not its number, its store, its event, a guess.
    for (const id of [orderB.order_number, shopB.storeId, orderB.event_id, uuid()]) {
      const { status, body } = await call(`order-status?order_id=${encodeURIComponent(id)}`);
      expect([status, body.field]).toEqual([id === orderB.order_number ? 400 : 404, "order_id"]);
    }
  });
});

describe("another user's order", () => {
  it("anon emits nothing, not even order.created for someone's order, and cannot make a buyer's order drain", async () => {
    const before = await rowCounts(sql);
    const body = { event_type: "order.created", aggregate_type: "order", aggregate_id: orderB.order_id, tenant_id: shopB.storeId,
      payload: { customer_email: "attacker@evil.test" }, idempotency_key: `order.cancelled:${orderB.order_id}` };
    const emitted = await call("process-event", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(emitted.status).toBe(401);
    const drained = await call("process-event", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ event_id: orderB.event_id, drain: true }) });
    expect([drained.status, drained.body.field]).toEqual([403, "drain"]);
    expect(await rowCounts(sql)).toBe(before);
  });
});

describe("oversized and slow bodies against the real gateway", async () => {
  const server = await serveNode(gateway, 0, "127.0.0.1", { requestDeadlineMs: 1_500 });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const send = (agent: Agent, method: string, path: string, body?: Buffer) => new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent, headers: body ? { "content-type": "application/json", "content-length": body.length } : {} }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk)).on("end", () => resolve({ status: res.statusCode ?? 0, text })).on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });

  it("an oversized body is a 413 naming the body, nothing is stored, and the next request on the connection is answered", async () => {
    const before = await rowCounts(sql);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const fn of ["process-event", "checkout", "confirm-delivery"]) {
        const big = await send(agent, "POST", `/functions/v1/${fn}`, Buffer.from(JSON.stringify({ x: "y".repeat(200_000) })));
        expect([fn, big.status, JSON.parse(big.text).field]).toEqual([fn, 413, "body"]);
        expect((await send(agent, "GET", "/functions/v1/storefront")).status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
    expect(await rowCounts(sql)).toBe(before);
  });

  it("a body trickled byte by byte is cut off by the deadline, and nothing is stored", async () => {
    const before = await rowCounts(sql);
    const body = JSON.stringify({ store_id: shopA.storeId, customer_email: "slow@example.com", payment_method: "card", items: [{ product_id: shopA.products.A, quantity: 1 }] });
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      let text = "";
      let i = 0;
      const drip = setInterval(() => socket.writable && i < body.length - 1 && socket.write(body[i++]), 200);
      socket.on("data", (chunk) => (text += chunk)).on("error", () => {}).on("close", () => (clearInterval(drip), resolve(text)));
      socket.write(`POST /functions/v1/checkout HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      setTimeout(() => socket.destroy(), 10_000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await rowCounts(sql)).toBe(before);
  });
});
