/**
 * Incoming webhooks over real HTTP: the process's own gateway on loopback, signed like
 * Stripe (our verifier is checked against hand-made Stripe signatures) and by the
 * independent standardwebhooks package.
 */
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { signStripe } from "../../../src/bus/webhooks/signatures.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { createFunctions } from "../../../src/marketplace/functions/index.ts";
import { createWebhooks } from "../../../src/bus/functions/webhooks.ts";
import { serveNode } from "../../../src/local/node-http.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const stripeSecret = `whsec_${crypto.randomUUID().replaceAll("-", "")}`;
const [acmeOld, acmeNew] = [1, 2].map(() => `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`);
const env = { STRIPE_WEBHOOK_SECRET: stripeSecret, WEBHOOK_SECRET_ACME: `${acmeNew} ${acmeOld}` };
const server = await serveNode(createGateway(createFunctions(bus, undefined, undefined, () => env)), 0);
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1/webhooks`;

const shop = await openShop(sql, [{ name: "Lamp", price: 9_000, stock: 20 }]);

function intentSucceeded(eventId: string, orderId: string, amount = 9_000) {
  return JSON.stringify({
    id: eventId, object: "event", type: "payment_intent.succeeded", created: Math.floor(Date.now() / 1000),
    data: { object: { id: `pi_${eventId.slice(4)}`, object: "payment_intent", amount, amount_received: amount, currency: "xof", metadata: { order_id: orderId } } },
  });
}

async function postStripe(body: string, signature?: string) {
  const response = await fetch(`${base}/stripe`, {
    method: "POST", body, headers: { "content-type": "application/json", "stripe-signature": signature ?? await signStripe(stripeSecret, body) },
  });
  return { status: response.status, body: await response.json() };
}

const count = async (table: string, where: string, ...values: string[]) =>
  (await sql.unsafe(`select count(*)::int as n from ${table} where ${where}`, values))[0].n as number;

describe("POST /functions/v1/webhooks/stripe", () => {
  it("turns payment_intent.succeeded into payment.paid and a paid order, through the engines", async () => {
    const order = await checkout(sql, shop, { Lamp: 1 });
    await drain(bus);
    const res = await postStripe(intentSucceeded("evt_paid_1", order.order_id));
    expect(res).toMatchObject({ status: 200, body: { received: true, duplicate: false, effect: "paid" } });

    const [payment] = await sql`select status, provider, provider_ref from payments where order_id = ${order.order_id}`;
    expect(payment).toEqual({ status: "paid", provider: "stripe", provider_ref: "pi_paid_1" });
    await drain(bus);
    const [row] = await sql`select o.status, e.funded_at is not null as funded from orders o join escrows e on e.order_id = o.id where o.id = ${order.order_id}`;
    expect(row).toEqual({ status: "paid", funded: true });
    const [paid] = await sql`select status, payload->>'provider' as provider from feyxa.events_log where event_type = 'payment.paid' and payload->>'order_id' = ${order.order_id}`;
    expect(paid).toEqual({ status: "completed", provider: "stripe" });
  });

  it("accepts the same event once, even after the bus has purged it weeks later", async () => {
    const order = await checkout(sql, shop, { Lamp: 1 });
    const body = intentSucceeded("evt_twice", order.order_id);
    const first = await postStripe(body);
    const again = await postStripe(body);
    expect(again).toEqual({ status: 200, body: { ...first.body, duplicate: true } });
    expect(await count("feyxa.events_log", "idempotency_key = $1", "webhook:stripe:evt_twice")).toBe(1);
    expect(await count("feyxa.events_log", "event_type = 'payment.paid' and payload->>'order_id' = $1", order.order_id)).toBe(1);

    // Retention deletes completed events after 30 days; the receipt stays.
    await sql`delete from feyxa.events_log where idempotency_key = 'webhook:stripe:evt_twice'`;
    await sql`update payments set status = 'pending' where order_id = ${order.order_id}`;
    expect((await postStripe(body)).body).toMatchObject({ duplicate: true });
    expect(await count("feyxa.events_log", "idempotency_key = $1", "webhook:stripe:evt_twice")).toBe(0);
    expect((await sql`select status from payments where order_id = ${order.order_id}`)[0].status).toBe("pending");
  });

  it("processes concurrent deliveries of one event once", async () => {
    const order = await checkout(sql, shop, { Lamp: 1 });
    const body = intentSucceeded("evt_racing", order.order_id);
    const answers = await Promise.all([1, 2, 3].map(() => postStripe(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    expect(await count("feyxa.events_log", "event_type = 'payment.paid' and payload->>'order_id' = $1", order.order_id)).toBe(1);
  });

  it("refuses a bad signature or a stale timestamp with 401 and writes nothing", async () => {
    const order = await checkout(sql, shop, { Lamp: 1 });
    const body = intentSucceeded("evt_forged", order.order_id);
    const forged = await postStripe(body, await signStripe("whsec_not_the_secret", body));
    expect(forged).toMatchObject({ status: 401, body: { error: "invalid_signature" } });
    const stale = await postStripe(body, await signStripe(stripeSecret, body, Math.floor(Date.now() / 1000) - 6 * 60));
    expect(stale).toMatchObject({ status: 401, body: { error: "invalid_signature", message: "signature refused: timestamp outside the 300 s tolerance" } });
    const tampered = await postStripe(body.replace("9000", "1"), await signStripe(stripeSecret, body));
    expect(tampered.status).toBe(401);
    expect(JSON.stringify([forged, stale, tampered])).not.toMatch(/v1=|whsec_/);
    expect(await count("feyxa.processed_webhooks", "provider_event_id = $1", "evt_forged")).toBe(0);
    expect(await count("feyxa.events_log", "idempotency_key = $1", "webhook:stripe:evt_forged")).toBe(0);
    expect((await sql`select status from payments where order_id = ${order.order_id}`)[0].status).toBe("pending");
  });

  it("serves the path Supabase hands the function (/webhooks/stripe, without /functions/v1)", async () => {
    const body = intentSucceeded("evt_edge_path", crypto.randomUUID());
    const response = await createWebhooks(bus, { env: () => env })(new Request("http://edge.local/webhooks/stripe", {
      method: "POST", body, headers: { "content-type": "application/json", "stripe-signature": await signStripe(stripeSecret, body) },
    }));
    expect(await response.json()).toMatchObject({ received: true, duplicate: false, effect: "no_payment" });
  });

  it("records, but does not pay, an intent whose amount is not the order's", async () => {
    const order = await checkout(sql, shop, { Lamp: 1 });
    expect((await postStripe(intentSucceeded("evt_short", order.order_id, 100))).body).toMatchObject({ duplicate: false, effect: "amount_mismatch" });
    expect((await sql`select status from payments where order_id = ${order.order_id}`)[0].status).toBe("pending");
  });
});

describe("POST /functions/v1/webhooks/<source> with Standard Webhooks", () => {
  const post = (source: string, id: string, body: string, secret: string, at = new Date()) =>
    fetch(`${base}/${source}`, {
      method: "POST", body,
      headers: {
        "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(secret).sign(id, at, body),
      },
    });
  const signed = (id: string, secret: string, at?: Date) =>
    post("acme", id, JSON.stringify({ type: "invoice.settled", timestamp: new Date().toISOString(), data: { invoice: "INV-1" } }), secret, at);

  it("accepts an event signed with either secret of a rotation, once", async () => {
    const first = await signed("msg_1", acmeOld);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ duplicate: false, effect: "none" });
    expect(await (await signed("msg_1", acmeNew)).json()).toMatchObject({ duplicate: true });
    const [event] = await sql`select event_type, payload from feyxa.events_log where idempotency_key = 'webhook:acme:msg_1'`;
    expect(event).toEqual({ event_type: "webhook.received", payload: { source: "acme", provider_event_id: "msg_1", provider_type: "invoice.settled", data: { invoice: "INV-1" } } });
  });

  it("refuses an unknown secret and a stale timestamp with 401, and an unconfigured source with 404", async () => {
    const stranger = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
    expect((await signed("msg_bad", stranger)).status).toBe(401);
    expect((await signed("msg_old", acmeNew, new Date(Date.now() - 10 * 60_000))).status).toBe(401);
    expect(await count("feyxa.processed_webhooks", "provider_event_id in ($1, $2)", "msg_bad", "msg_old")).toBe(0);
    const unknown = await post("globex", "msg_2", "{}", acmeNew);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "unknown_source" });
  });
});
