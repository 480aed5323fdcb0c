/**
 * Email through a real HTTP server on loopback that speaks Resend's API shape: an outage
 * fails only the email handler, the retry runs only it, and the buyer gets one email.
 */
import { createServer, type Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { createResendProvider } from "../../../src/marketplace/services/email/resend.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { useDatabase } from "../../support/database.ts";
import { eventRow, handlerRows, makeDue, testBus } from "../../support/bus.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();

/** A Resend-shaped server: POST /emails; answers 503 while `down`, else 200 {id}; one email per Idempotency-Key. */
function fakeResend() {
  const state = { down: true, requests: 0, delivered: new Map<string, { to: string[]; subject: string; auth: string }>() };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      state.requests++;
      if (req.method !== "POST" || req.url !== "/emails") return void res.writeHead(404).end();
      if (state.down) return void res.writeHead(503, { "content-type": "application/json" }).end('{"message":"service unavailable"}');
      const key = String(req.headers["idempotency-key"]);
      const parsed = JSON.parse(body);
      if (!state.delivered.has(key)) state.delivered.set(key, { to: parsed.to, subject: parsed.subject, auth: String(req.headers.authorization) });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: `email_${key.slice(0, 8)}` }));
    });
  });
  return { state, server };
}

describe("email provider", () => {
  const { state, server } = fakeResend();
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("an outage fails only the email handler; the retry sends exactly one email", async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as { port: number };
    const email = createResendProvider({ apiKey: "re_test_key", from: "Shop <shop@example.com>", baseUrl: `http://127.0.0.1:${port}` });
    const bus = testBus(sql, engineHandlers({ email }));
    const shop = await openShop(sql, [{ name: "Pot", price: 2_000, stock: 10 }]);
    const order = await checkout(sql, shop, { Pot: 3 });

    await drain(bus);
    const failed = await eventRow(sql, order.event_id);
    expect(failed.status).toBe("failed");
    expect(failed.error_message).toContain("commerce.send_confirmation_email: email provider answered 503");
    const firstAttempt = await handlerRows(sql, order.event_id);
    expect(firstAttempt.filter((r) => r.status === "failed").map((r) => r.handler_name)).toEqual(["commerce.send_confirmation_email"]);

    state.down = false;
    await makeDue(sql, order.event_id);
    await drain(bus);
    expect((await eventRow(sql, order.event_id)).status).toBe("completed");
    const second = (await handlerRows(sql, order.event_id)).filter((r) => r.attempt === 2);
    expect(second.map((r) => `${r.handler_name}:${r.status}`)).toEqual([
      "commerce.create_notification:skipped", "commerce.decrement_stock:skipped", "commerce.send_confirmation_email:success",
      "fintech.create_escrow:skipped", "intelligence.attribute_conversion:skipped", "intelligence.update_daily_metrics:skipped",
    ]);

    // The other effects happened once; the buyer got one email, keyed by the handler run.
    const [stock] = await sql`select stock from products where id = ${shop.products.Pot}`;
    expect(stock.stock).toBe(7);
    expect(state.delivered.size).toBe(1);
    const [key, sent] = [...state.delivered.entries()][0];
    expect(key).toBe(`${order.event_id}:commerce.send_confirmation_email`);
    expect(sent).toMatchObject({ to: ["buyer@example.com"], auth: "Bearer re_test_key" });
    const [outbox] = await sql`select status, provider, attempts, provider_message_id from email_outbox where store_id = ${shop.storeId}`;
    expect(outbox).toMatchObject({ status: "sent", provider: "resend", attempts: 2 });
  });
});
