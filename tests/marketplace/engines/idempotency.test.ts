/**
 * Every handler, run a second time for the same event, changes nothing: after a whole
 * marketplace story has gone through the bus, each handler of each event is run again
 * and every domain table must read exactly as before.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import type { BusEvent } from "../../../src/bus/types.ts";
import { useDatabase } from "../../support/database.ts";
import { testBus } from "../../support/bus.ts";
import { checkout, drain, hireAgent, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const handlers = engineHandlers();
const bus = testBus(sql, handlers);

const TABLES = ["products", "orders", "payments", "deliveries", "stock_movements", "escrows", "store_ledger", "payouts",
  "support_tickets", "notifications", "audit_log", "email_outbox", "order_attributions", "store_daily_metrics", "automation_runs"];

/** A fingerprint of every domain table, ignoring bookkeeping timestamps that a recomputation refreshes. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const [row] = await sql.unsafe(`
      select count(*) || ':' || coalesce(md5(string_agg(r::text, '|' order by r::text)), '') as fp
      from (select to_jsonb(t) - 'refreshed_at' - 'updated_at' as r from ${table} t) x`);
    out[table] = row.fp;
  }
  return out;
}

describe("handler idempotency", () => {
  it("each handler run twice for the same event changes nothing the second time", async () => {
    const shop = await openShop(sql, [{ name: "Lamp", price: 8_000, stock: 3 }, { name: "Rare", price: 1_000, stock: 0 }]);
    await hireAgent(sql, "Coumba");
    await sql`insert into automations (store_id, name, trigger_pattern, trigger_filter, reactions) values
      (${shop.storeId}, 'Thank big buyers', 'order.created', '{"total_minor": {"gte": 5000}}',
       ${sql.json([{ type: "notify", title: "Big order {{payload.order_number}}" }, { type: "emit", event_type: "store.big_order", payload: {} }])})`;
    const order = await checkout(sql, shop, { Lamp: 1 }, { attribution: { source: "newsletter" } });
    await checkout(sql, shop, { Rare: 1 }); // out of stock: compensated
    await drain(bus);
    await sql`update payments set status = 'paid' where order_id = ${order.order_id}`;
    await drain(bus);
    await sql`update deliveries set status = 'delivered' where order_id = ${order.order_id}`;
    await drain(bus);
    await sql`update deliveries set status = 'confirmed' where order_id = ${order.order_id}`;
    await sql`insert into payouts (store_id, amount_minor, currency) values (${shop.storeId}, 5000, 'XOF'), (${shop.storeId}, 99999, 'XOF')`;
    await sql`insert into support_tickets (store_id, customer_email, subject) values (${shop.storeId}, 'b@example.com', 'Help')`;
    await drain(bus);
    // An alert rule over the refused order's dead letter: its notice mails the store's owners.
    await sql`insert into feyxa.alert_rules (name, kind, threshold, event_type, tenant_id)
              values ('Refused orders', 'dead_letters', 0, 'order.created', ${shop.storeId})`;
    await sql`select feyxa.evaluate_alerts()`;
    await drain(bus);

    const events = await sql<{ id: string; event_type: string; aggregate_type: string; aggregate_id: string; tenant_id: string | null; payload: Record<string, unknown>; idempotency_key: string; attempt: number; retry_count: number; max_retries: number; created_at: Date }[]>`
      select * from feyxa.events_log order by created_at`;
    expect(new Set(events.map((e) => e.event_type))).toEqual(new Set([
      "order.created", "order.cancelled", "payment.paid", "delivery.delivered", "delivery.confirmed", "payout.requested", "ticket.created",
      "store.big_order", "alert.firing",
    ]));

    let reruns = 0;
    const byName = new Map(handlers.map((h) => [h.name, h]));
    for (const e of events) {
      const event: BusEvent = {
        id: e.id, type: e.event_type, aggregateType: e.aggregate_type, aggregateId: e.aggregate_id, tenantId: e.tenant_id,
        payload: e.payload, idempotencyKey: e.idempotency_key, attempt: e.attempt + 1, retryCount: e.retry_count,
        maxRetries: e.max_retries, createdAt: e.created_at, causationId: null, correlationId: e.id,
      };
      for (const name of await bus.router.handlersFor(e.event_type)) {
        const before = await snapshot();
        await byName.get(name)!.run(event, { sql, handlerName: name, idempotencyKey: `${e.id}:${name}`, signal: new AbortController().signal })
          .catch(() => {}); // a refusal (out of stock, overdraft) refuses again; what matters is that nothing changes
        expect(await snapshot(), `${name} re-run for ${e.event_type}`).toEqual(before);
        reruns++;
      }
    }
    expect(reruns).toBeGreaterThanOrEqual(20);
    // The names every handler of the engines was exercised under at least once.
    const ran = new Set((await sql`select distinct handler_name from feyxa.event_handlers_log`).map((r) => r.handler_name));
    expect([...byName.keys()].filter((n) => !ran.has(n))).toEqual([]);
  });
});
