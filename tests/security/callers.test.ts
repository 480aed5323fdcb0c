/**
 * Who may call what: every credential Supabase issues, and every way of forging or
 * stretching one, against the functions; and what a caller other than the server may emit.
 */
import { describe, expect, it } from "vitest";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { useDatabase } from "../support/database.ts";
import { handlerRows, subscribe, testBus, uuid } from "../support/bus.ts";
import { checkout, drain, openShop } from "../support/marketplace.ts";
import { TEST_SECRET_KEY, testFunctions, token } from "../support/auth.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const gateway = createGateway(testFunctions(bus));
const call = (fn: string, body: unknown, headers: Record<string, string> = {}) =>
  gateway(new Request(`http://localhost/functions/v1/${fn}`, {
    method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
  }));
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const [alice, bob] = [uuid(), uuid()];
await sql`insert into auth.users (id, email) values (${alice}, 'alice@example.com'), (${bob}, 'bob@example.com')`;

/** An unsigned token (alg none) claiming to be the service role. */
function unsigned(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}.`;
}

describe("retry-failed-events answers only to the server", () => {
  const cases: [string, () => Promise<Record<string, string>>, number][] = [
    ["the secret key in apikey", async () => ({ apikey: TEST_SECRET_KEY }), 200],
    ["the secret key as bearer", async () => bearer(TEST_SECRET_KEY), 200],
    ["the legacy service_role JWT", async () => bearer(await token(undefined, { role: "service_role" })), 200],
    ["a user (HS256)", async () => bearer(await token(alice)), 403],
    ["a user (ES256, JWKS)", async () => bearer(await token(alice, { alg: "ES256" })), 403],
    ["a user (RS256, JWKS)", async () => bearer(await token(alice, { alg: "RS256" })), 403],
    ["no credentials", async () => ({}), 401],
    ["the anon JWT", async () => bearer(await token(undefined, { role: "anon" })), 401],
    ["an unknown secret key", async () => ({ apikey: "sb_secret_guessed_0000000000000000" }), 401],
    ["an expired service token", async () => bearer(await token(undefined, { role: "service_role", expiresIn: Math.floor(Date.now() / 1000) - 60 })), 401],
    ["a not-yet-valid service token", async () => bearer(await token(undefined, { role: "service_role", notBefore: "10m" })), 401],
    ["a forged service token (wrong secret)", async () => bearer(await token(undefined, { role: "service_role", secret: "x".repeat(40) })), 401],
    ["an alg:none service token", async () => bearer(unsigned({ role: "service_role" })), 401],
    ["a user token for another audience", async () => bearer(await token(alice, { audience: "someone-else" })), 401],
    ["garbage", async () => bearer("not.a.token"), 401],
  ];
  for (const [who, headers, status] of cases) {
    it(`${who}: ${status}`, async () => {
      const res = await call("retry-failed-events", {}, await headers());
      expect(res.status).toBe(status);
      const body = await res.json();
      if (status === 401) {
        expect(["invalid or expired credentials", "server credentials required"]).toContain(body.message); // no detail that helps
        expect(res.headers.get("www-authenticate")).toContain("Bearer");
      }
    });
  }
});

describe("who may emit", async () => {
  const shop = await openShop(sql, [{ name: "Jar", price: 700, stock: 50 }]);
  const event = (over: Record<string, unknown>) => ({ aggregate_type: "order", aggregate_id: uuid(), tenant_id: shop.storeId, payload: {}, ...over });
  const events = async () => (await sql`select count(*)::int as n from feyxa.events_log`)[0].n as number;

  it("nobody but the server emits payout.requested or payment.paid", async () => {
    const before = await events();
    const valid = {
      "payout.requested": { amount_minor: 100, currency: "XOF" },
      "payment.paid": { order_id: uuid(), amount_minor: 100, currency: "XOF", provider: "stripe" },
    };
    for (const [type, payload] of Object.entries(valid)) {
      const body = event({ event_type: type, aggregate_type: type.split(".")[0], payload });
      for (const who of [bearer(await token(alice)), bearer(await token(undefined, { role: "anon" })), {}]) {
        const res = await call("process-event", body, who);
        expect(res.status).toBe(403);
        expect(await res.json()).toMatchObject({ field: "event_type" });
      }
    }
    expect(await events()).toBe(before);
  });

  it("a buyer may ask for their own order's order.created only", async () => {
    const [mine] = await sql`select * from checkout(${shop.storeId}::uuid, 'alice@example.com',
      ${sql.json([{ product_id: shop.products.Jar, quantity: 1 }])}, 'card', '{}'::jsonb, ${alice}::uuid)`;
    const [payload] = await sql`select payload from feyxa.events_log where id = ${mine.event_id}`;
    const own = await call("process-event", event({ event_type: "order.created", aggregate_id: mine.order_id, payload: payload.payload }), bearer(await token(alice)));
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ event_id: mine.event_id, duplicate: true });
    const others = await call("process-event", event({ event_type: "order.created", aggregate_id: mine.order_id, payload: payload.payload }), bearer(await token(bob)));
    expect(others.status).toBe(403);
    const noStore = await call("process-event", event({ event_type: "order.created", aggregate_id: mine.order_id, tenant_id: uuid(), payload: payload.payload }), bearer(await token(alice)));
    expect(noStore.status).toBe(400);
    const other = await openShop(sql, [{ name: "Cup", price: 100, stock: 1 }]);
    const wrongStore = await call("process-event", event({ event_type: "order.created", aggregate_id: mine.order_id, tenant_id: other.storeId, payload: payload.payload }), bearer(await token(alice)));
    expect(wrongStore.status).toBe(403);
  });

  it("a guest may ask about an order.created event by id, never another type, and may not drain", async () => {
    const order = await checkout(sql, shop, { Jar: 1 });
    expect((await call("process-event", { event_id: order.event_id })).status).toBe(200);
    expect((await call("process-event", { event_id: order.event_id, drain: true })).status).toBe(403);
    await sql`insert into payouts (store_id, amount_minor, currency) values (${shop.storeId}, 10, 'XOF')`;
    const [payout] = await sql`select id from feyxa.events_log where event_type = 'payout.requested' order by created_at desc limit 1`;
    expect((await call("process-event", { event_id: payout.id })).status).toBe(403);
  });

  it("a signed-in buyer's checkout makes the order theirs, and only they (or the server) confirm it", async () => {
    const res = await call("checkout", { store_id: shop.storeId, customer_email: "alice@example.com", payment_method: "card",
      items: [{ product_id: shop.products.Jar, quantity: 2 }] }, bearer(await token(alice, { alg: "ES256" })));
    expect(res.status).toBe(201);
    const order = await res.json();
    const [row] = await sql`select customer_id from orders where id = ${order.order_id}`;
    expect(row.customer_id).toBe(alice);
    await drain(bus);
    await sql`update payments set status = 'paid' where order_id = ${order.order_id}`;
    await sql`update deliveries set status = 'delivered' where order_id = ${order.order_id}`;
    await drain(bus);
    expect((await call("confirm-delivery", { order_id: order.order_id }, bearer(await token(bob)))).status).toBe(404);
    expect((await call("confirm-delivery", { order_id: order.order_id, customer_email: "alice@example.com" })).status).toBe(404); // not a guest order
    expect((await call("confirm-delivery", { order_id: order.order_id }, bearer(await token(alice)))).status).toBe(200);
  });
});

describe("secrets stay out of logs and handler errors", () => {
  it("a credential in a handler's error is redacted before it is stored", async () => {
    const leaky = defineHandler("leak.handler", async () => {
      throw new Error(`upstream said 401 for Authorization: Bearer ${await token(alice)} with key ${TEST_SECRET_KEY} and whsec_c2VjcmV0LXZhbHVlLTEyMzQ1`);
    });
    await subscribe(sql, "leak.event", "leak.handler");
    const leakBus = testBus(sql, [leaky]);
    const { eventId } = await leakBus.emit({ event_type: "leak.event", aggregate_type: "test", aggregate_id: uuid() });
    await leakBus.drainOnce(10);
    const [row] = await handlerRows(sql, eventId);
    expect(row.error_message).toContain("Bearer [redacted jwt]");
    expect(row.error_message).toContain("sb_secret_[redacted]");
    expect(row.error_message).not.toMatch(/eyJ|sb_secret_test|c2VjcmV0/);
    const [event] = await sql`select error_message from feyxa.events_log where id = ${eventId}`;
    expect(event.error_message).not.toMatch(/eyJ|sb_secret_test|c2VjcmV0/);
  });
});
