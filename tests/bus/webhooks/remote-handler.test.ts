import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import type { Bus } from "../../../src/bus/bus.ts";
import { parseAllowList } from "../../../src/bus/outbound.ts";
import { remoteDelivery } from "../../../src/bus/webhooks/remote-handler.ts";
import { countingHandler, emitTest, eventRow, handlerRows, makeDue, subscribe, testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { type Answer, type Received, startReceiver } from "../../support/receiver.ts";

const { sql } = await useDatabase();
// The receivers are on loopback, which only an allow-list opens: to saving (the database's) and to calling (the bus's).
await sql`update feyxa.event_bus_settings set outbound_allow = '{127.0.0.1}'`;
const outbound = { allow: parseAllowList("127.0.0.1") };
const newSecret = () => `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
const flaky = countingHandler("local.flaky", (attempt) => (attempt === 1 ? new Error("first try fails") : undefined));
const bus = testBus(sql, [flaky.handler, remoteDelivery({ timeoutMs: 400, functionKey: () => "service-key-for-tests", outbound })]);

/** A receiver, a url subscription of `handler` to `eventType`, and optionally a secret. */
async function remoteSubscription(handler: string, eventType: string, answer?: (r: Received, i: number) => Answer, secret?: string) {
  const receiver = await startReceiver(answer);
  const secretName = secret ? handler.replace(".", "-") : null;
  if (secret) await sql`select feyxa.add_webhook_secret(${secretName!}, ${secret})`;
  await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target, secret_name)
            values (${eventType}, ${handler}, 'url', ${`${receiver.base}/hooks/${handler}`}, ${secretName})`;
  return receiver;
}

async function attempt(b: Bus, eventId: string) {
  const claimed = await b.claimOne(eventId);
  if (!claimed) throw new Error(`event ${eventId} was not due`);
  return (await b.process([claimed]))[0];
}

const headersOf = (r: Received) => Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));

/** The deliveries of a timed-out run, once recorded (the log is written after the run gives up, so wait up to a second). */
async function recordedDeliveries(eventId: string) {
  for (let i = 0; i < 50; i++) {
    const rows = await sql`select status_code, response_excerpt from feyxa.webhook_deliveries where event_id = ${eventId}::uuid`;
    if (rows.length) return rows;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the timed-out delivery was never recorded");
}

describe("remote handlers: Standard Webhooks deliveries", () => {
  it("delivers a signed body that the standardwebhooks package verifies, and logs the run under the handler name", async () => {
    const secret = newSecret();
    const receiver = await remoteSubscription("n8n.orders", "hook.signed", undefined, secret);
    const id = await emitTest(bus, "hook.signed", { total: 1200 });
    expect((await attempt(bus, id)).status).toBe("completed");

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request.path).toBe("/hooks/n8n.orders");
    expect(request.headers["webhook-id"]).toBe(`${id}:n8n.orders`);
    const verified = new Webhook(secret).verify(request.body, headersOf(request)) as { type: string; data: { event_id: string; payload: unknown } };
    expect(verified).toMatchObject({ type: "hook.signed", data: { event_id: id, payload: { total: 1200 } } });
    expect(() => new Webhook(newSecret()).verify(request.body, headersOf(request))).toThrow();

    expect(await handlerRows(sql, id)).toEqual([expect.objectContaining({ handler_name: "n8n.orders", status: "success" })]);
    const [delivery] = await sql`select status_code, response_excerpt from feyxa.webhook_deliveries where event_id = ${id}::uuid`;
    expect(delivery).toEqual({ status_code: 200, response_excerpt: "ok" });
  });

  it("keeps webhook-id across retries and logs the failed answer's status and excerpt", async () => {
    const receiver = await remoteSubscription("crm.sync", "hook.retried", (_, i) =>
      i === 0 ? { status: 500, body: "database\nlocked, try later" } : { status: 204 });
    const id = await emitTest(bus, "hook.retried");
    expect((await attempt(bus, id)).status).toBe("failed");
    await makeDue(sql, id);
    expect((await attempt(bus, id)).status).toBe("completed");

    expect(receiver.received.map((r) => r.headers["webhook-id"])).toEqual([`${id}:crm.sync`, `${id}:crm.sync`]);
    const rows = await handlerRows(sql, id);
    expect(rows.map((r) => [r.attempt, r.status])).toEqual([[1, "failed"], [2, "success"]]);
    expect(rows[0].error_message).toBe("HTTP 500: database locked, try later");
  });

  it("signs with both secrets during a rotation, and only the new one after", async () => {
    const [oldSecret, newer] = [newSecret(), newSecret()];
    const receiver = await remoteSubscription("erp.rotating", "hook.rotated", undefined, oldSecret);
    await sql`select feyxa.add_webhook_secret('erp-rotating', ${newer}, interval '1 hour')`;
    const first = await emitTest(bus, "hook.rotated");
    await attempt(bus, first);
    const during = receiver.received[0];
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    for (const secret of [oldSecret, newer]) expect(() => new Webhook(secret).verify(during.body, headersOf(during))).not.toThrow();

    await sql`update feyxa.webhook_secrets set retire_at = now() - interval '1 second' where name = 'erp-rotating' and retire_at is not null`;
    await attempt(bus, await emitTest(bus, "hook.rotated"));
    const after = receiver.received[1];
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(() => new Webhook(newer).verify(after.body, headersOf(after))).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(after.body, headersOf(after))).toThrow();
  });

  it("deactivates the subscription on 410 Gone and says so in the log", async () => {
    const receiver = await remoteSubscription("old.consumer", "hook.gone", () => ({ status: 410, body: "endpoint removed" }));
    const id = await emitTest(bus, "hook.gone");
    expect((await attempt(bus, id)).status).toBe("failed");
    const [row] = await handlerRows(sql, id);
    expect(row.error_message).toBe("HTTP 410: endpoint removed (the receiver is gone; subscription deactivated)");
    const [sub] = await sql`select is_active from feyxa.event_subscriptions where handler_name = 'old.consumer'`;
    expect(sub.is_active).toBe(false);
    // The retry no longer routes there: the event completes without another request.
    await makeDue(sql, id);
    expect((await attempt(bus, id)).status).toBe("completed");
    expect(receiver.received).toHaveLength(1);
  });

  it("honours 429 with Retry-After for the next attempt", async () => {
    await remoteSubscription("rate.limited", "hook.throttled", () => ({ status: 429, headers: { "retry-after": "120" }, body: "slow down" }));
    const id = await emitTest(bus, "hook.throttled");
    expect((await attempt(bus, id)).status).toBe("failed");
    const row = await eventRow(sql, id);
    const inSeconds = (row.next_retry_at!.getTime() - Date.now()) / 1000;
    expect(inSeconds).toBeGreaterThan(110);
    expect(inSeconds).toBeLessThan(125);
    expect((await handlerRows(sql, id))[0].error_message).toBe("RetryAfterError: HTTP 429: slow down");
  });

  it("logs a receiver that does not answer in time as a timeout", async () => {
    await remoteSubscription("slow.receiver", "hook.hung", () => "hang");
    const id = await emitTest(bus, "hook.hung");
    expect((await attempt(bus, id)).status).toBe("failed");
    expect((await handlerRows(sql, id))[0].error_message).toBe("HandlerTimeoutError: timed out after 400 ms (handler slow.receiver)");
    expect(await recordedDeliveries(id)).toEqual([{ status_code: null, response_excerpt: "no answer before the timeout" }]);
  });

  it("logs a receiver that sends 200 headers and never ends the body as a timeout, not a 2xx delivery", async () => {
    await remoteSubscription("stalled.receiver", "hook.stalled", () => ({ status: 200, body: "ok so far", stall: true }));
    const id = await emitTest(bus, "hook.stalled");
    expect((await attempt(bus, id)).status).toBe("failed");
    expect((await handlerRows(sql, id))[0]).toMatchObject({ status: "failed", error_message: "HandlerTimeoutError: timed out after 400 ms (handler stalled.receiver)" });
    expect(await recordedDeliveries(id)).toEqual([{ status_code: 200, response_excerpt: "HTTP 200 but the body did not end before the timeout: ok so far" }]);
  });

  it("does not deliver again on a retry once the remote handler succeeded", async () => {
    const receiver = await remoteSubscription("once.only", "hook.mixed");
    await subscribe(sql, "hook.mixed", "local.flaky");
    const id = await emitTest(bus, "hook.mixed");
    expect((await attempt(bus, id)).status).toBe("failed");
    await makeDue(sql, id);
    expect((await attempt(bus, id)).status).toBe("completed");
    expect(receiver.received).toHaveLength(1);
    const rows = (await handlerRows(sql, id)).map((r) => [r.attempt, r.handler_name, r.status]);
    expect(rows).toEqual([[1, "local.flaky", "failed"], [1, "once.only", "success"], [2, "local.flaky", "success"], [2, "once.only", "skipped"]]);
  });

  it("calls an Edge Function by name under functions_url, with the service key", async () => {
    const receiver = await startReceiver();
    await sql`update feyxa.event_bus_settings set functions_url = ${`${receiver.base}/functions/v1/`}`;
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
              values ('hook.function', 'inventory.reserve', 'function', 'inventory-sync')`;
    const id = await emitTest(bus, "hook.function");
    expect((await attempt(bus, id)).status).toBe("completed");
    expect(receiver.received[0].path).toBe("/functions/v1/inventory-sync");
    expect(receiver.received[0].headers.authorization).toBe("Bearer service-key-for-tests");
    expect(receiver.received[0].headers["webhook-signature"]).toBeUndefined();
    await sql`update feyxa.event_bus_settings set functions_url = null`;
  });

  it("still reports a subscribed name with neither code nor remote target", async () => {
    await subscribe(sql, "hook.orphan", "nobody.home");
    const id = await emitTest(bus, "hook.orphan");
    await attempt(bus, id);
    expect((await handlerRows(sql, id))[0].error_message).toMatch(/^no handler named "nobody.home" is registered/);
  });

  it("refuses targets that are neither HTTPS nor allow-listed, and keeps secrets from every API role", async () => {
    await expect(sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
                     values ('x.y', 'plain.http', 'url', 'http://example.com/hook')`).rejects.toThrow(/target: plain http to example.com: use https/);
    await expect(sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
                     values ('x.y', 'ftp.target', 'url', 'ftp://example.com/hook')`).rejects.toThrow(/target: must be an https URL/);
    for (const role of ["anon", "authenticated", "service_role"]) {
      await expect(sql.begin(async (tx) => {
        await tx.unsafe(`set local role ${role}`);
        await tx`select * from feyxa.webhook_secrets`;
      })).rejects.toThrow(/permission denied/);
    }
    const logged = await sql`select count(*)::int as n from feyxa.event_handlers_log where error_message like '%whsec_%' or error_message like '%v1,%'`;
    expect(logged[0].n).toBe(0);
  });
});
