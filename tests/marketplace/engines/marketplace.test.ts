/**
 * The whole story against real Postgres: checkout, payment, delivery, confirmation,
 * payout, ticket, each flowing through the bus and leaving the marketplace right.
 */
import { describe, expect, it } from "vitest";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { serverFunctions } from "../../support/auth.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import { useDatabase } from "../../support/database.ts";
import { eventRow, handlerRows, testBus } from "../../support/bus.ts";
import { checkout, drain, hireAgent, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());
const one = async (query: Promise<{ n: number }[]>) => (await query)[0].n;

describe("a marketplace order through the bus", async () => {
  const shop = await openShop(sql, [{ name: "Basket", price: 12_000, stock: 10 }, { name: "Mug", price: 3_500, stock: 5 }]);
  const order = await checkout(sql, shop, { Basket: 2, Mug: 1 }, { attribution: { utm_source: "instagram", utm_campaign: "noel" } });

  it("checkout: escrow held, stock taken, one email, one notification, attribution, metrics", async () => {
    const outcomes = await drain(bus);
    expect(outcomes.find((o) => o.eventId === order.event_id)?.status).toBe("completed");
    expect((await handlerRows(sql, order.event_id)).map((r) => `${r.handler_name}:${r.status}`)).toEqual([
      "commerce.create_notification:success", "commerce.decrement_stock:success", "commerce.send_confirmation_email:success",
      "fintech.create_escrow:success", "intelligence.attribute_conversion:success", "intelligence.update_daily_metrics:success",
    ]);
    const [escrow] = await sql`select status, amount_minor::int as amount, funded_at from escrows where order_id = ${order.order_id}`;
    expect(escrow).toMatchObject({ status: "held", amount: 27_500, funded_at: null });
    const stock = await sql`select name, stock from products where store_id = ${shop.storeId} order by name`;
    expect(stock.map((p) => `${p.name}:${p.stock}`)).toEqual(["Basket:8", "Mug:4"]);
    const emails = await sql`select to_email, subject, status from email_outbox where store_id = ${shop.storeId}`;
    expect(emails).toEqual([{ to_email: "buyer@example.com", subject: expect.stringContaining(order.order_number), status: "stored" }]);
    expect(await one(sql`select count(*)::int as n from notifications where store_id = ${shop.storeId} and kind = 'order.created'`)).toBe(1);
    const [attribution] = await sql`select source, campaign from order_attributions where order_id = ${order.order_id}`;
    expect(attribution).toEqual({ source: "instagram", campaign: "noel" });
    const [metrics] = await sql`select orders_count, orders_minor::int as minor, paid_count from store_daily_metrics where store_id = ${shop.storeId}`;
    expect(metrics).toEqual({ orders_count: 1, minor: 27_500, paid_count: 0 });
  });

  it("payment paid (by trigger): payment and order paid, escrow funded", async () => {
    await sql`update payments set status = 'paid', provider_ref = 'pi_123' where order_id = ${order.order_id}`;
    const [event] = await sql`select id from feyxa.events_log where event_type = 'payment.paid' and payload ->> 'order_id' = ${order.order_id}`;
    await drain(bus);
    expect((await eventRow(sql, event.id)).status).toBe("completed");
    const [state] = await sql`
      select o.status as order_status, p.status as payment_status, e.funded_at is not null as funded, m.paid_count
      from orders o join payments p on p.order_id = o.id join escrows e on e.order_id = o.id
      join store_daily_metrics m on m.store_id = o.store_id where o.id = ${order.order_id}`;
    expect(state).toEqual({ order_status: "paid", payment_status: "paid", funded: true, paid_count: 1 });
  });

  it("delivered: delivery recorded, escrow released to the store's ledger", async () => {
    await sql`update deliveries set status = 'delivered' where order_id = ${order.order_id}`;
    await drain(bus);
    const [state] = await sql`
      select d.delivered_at is not null as delivered, e.status as escrow, o.status as order_status,
             (select balance_minor::int from store_balances b where b.store_id = o.store_id) as balance
      from orders o join deliveries d on d.order_id = o.id join escrows e on e.order_id = o.id where o.id = ${order.order_id}`;
    expect(state).toEqual({ delivered: true, escrow: "released", order_status: "completed", balance: 27_500 });
  });

  it("confirmed (through confirm-delivery): still one release, one audit row", async () => {
    const gateway = createGateway(serverFunctions(bus));
    const res = await gateway(new Request("http://x/functions/v1/confirm-delivery", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ order_id: order.order_id, customer_email: "buyer@example.com" }),
    }));
    expect(res.status).toBe(200);
    await drain(bus);
    expect(await one(sql`select count(*)::int as n from store_ledger where store_id = ${shop.storeId} and kind = 'escrow_release'`)).toBe(1);
    const audit = await sql`select action, entity_type from audit_log where store_id = ${shop.storeId}`;
    expect(audit).toEqual([{ action: "delivery.confirmed", entity_type: "delivery" }]);
    const [event] = await sql`select status from feyxa.events_log where event_type = 'delivery.confirmed' and payload ->> 'order_id' = ${order.order_id}`;
    expect(event.status).toBe("completed");
  });

  it("payouts: paid within the balance, refused (not retriable) beyond it", async () => {
    await sql`insert into payouts (store_id, amount_minor, currency) values (${shop.storeId}, 20000, 'XOF')`;
    await drain(bus);
    await sql`insert into payouts (store_id, amount_minor, currency) values (${shop.storeId}, 10000, 'XOF')`;
    await drain(bus);
    const payouts = await sql`select amount_minor::int as amount, status, refusal_reason from payouts where store_id = ${shop.storeId} order by created_at`;
    expect(payouts).toEqual([
      { amount: 20_000, status: "paid", refusal_reason: null },
      { amount: 10_000, status: "refused", refusal_reason: "payout of 10000 XOF exceeds the released balance of 7500 XOF" },
    ]);
    const [refused] = await sql`select e.id, e.status from feyxa.events_log e where e.event_type = 'payout.requested' and e.aggregate_id = (
                                  select id from payouts where store_id = ${shop.storeId} and status = 'refused')`;
    expect(refused.status).toBe("dead");
    const rows = await handlerRows(sql, refused.id);
    expect(rows.find((r) => r.handler_name === "fintech.process_payout")?.error_message).toContain("exceeds the released balance");
    expect(rows.find((r) => r.handler_name === "trust.audit_log")?.status).toBe("success");
  });

  it("ticket: assigned to the least-loaded agent and the store notified", async () => {
    const busy = await hireAgent(sql, "Awa");
    const free = await hireAgent(sql, "Binta");
    await sql`insert into support_tickets (store_id, customer_email, subject, status, assigned_agent_id)
              values (${shop.storeId}, 'x@example.com', 'older', 'assigned', ${busy})`;
    const [ticket] = await sql`insert into support_tickets (store_id, order_id, customer_email, subject)
                               values (${shop.storeId}, ${order.order_id}, 'buyer@example.com', 'Where is my mug?') returning id`;
    await drain(bus);
    const [row] = await sql`select assigned_agent_id, status from support_tickets where id = ${ticket.id}`;
    expect(row).toEqual({ assigned_agent_id: free, status: "assigned" });
    expect(await one(sql`select count(*)::int as n from notifications where kind = 'ticket.created' and data ->> 'ticket_id' = ${ticket.id}`)).toBe(1);
  });
});

describe("out of stock", () => {
  it("is not retriable, and leaves no escrow held: the order is cancelled and compensated", async () => {
    const shop = await openShop(sql, [{ name: "Rare", price: 50_000, stock: 1 }]);
    const order = await checkout(sql, shop, { Rare: 2 });
    await drain(bus);
    const event = await eventRow(sql, order.event_id);
    expect(event.status).toBe("dead");
    expect(event.error_message).toContain("commerce.decrement_stock: NonRetriableError: out of stock: Rare: 2 wanted, 1 in stock");
    const [state] = await sql`
      select o.status, o.cancel_reason, (select status from escrows e where e.order_id = o.id) as escrow,
             (select stock from products where id = ${shop.products.Rare}) as stock
      from orders o where o.id = ${order.order_id}`;
    expect(state.status).toBe("cancelled");
    expect(state.cancel_reason).toContain("out of stock");
    expect([null, "refunded"]).toContain(state.escrow); // never 'held'
    expect(state.stock).toBe(1);
    expect(await one(sql`select count(*)::int as n from feyxa.events_log where event_type = 'order.cancelled' and aggregate_id = ${order.order_id}`)).toBe(1);
  });
});

describe("order numbers", () => {
  it("draws again when a checkout draws a number another order of the day has", async () => {
    const shop = await openShop(sql, [{ name: "Cup", price: 1_000, stock: 10 }]);
    const rollback = new Error("rollback");
    await expect(sql.begin(async (tx) => {
      // checkout's search_path ends with pg_catalog: a public gen_random_uuid, for this
      // transaction, makes its first two draws the same.
      await tx`create sequence public.draws`;
      await tx.unsafe(`create function public.gen_random_uuid() returns uuid language sql as $$
        select case when nextval('public.draws') <= 2 then 'abcdef12-0000-4000-8000-000000000000'::uuid else pg_catalog.gen_random_uuid() end $$`);
      const first = await checkout(tx as never, shop, { Cup: 1 });
      const second = await checkout(tx as never, shop, { Cup: 1 });
      expect(first.order_number).toMatch(/^FX-\d{6}-ABCDEF12$/);
      expect(second.order_number).toMatch(/^FX-\d{6}-[0-9A-F]{8}$/);
      expect(second.order_number).not.toBe(first.order_number);
      const [{ draws }] = await tx<{ draws: string }[]>`select last_value::text as draws from public.draws`;
      expect(draws).toBe("3");
      throw rollback;
    })).rejects.toBe(rollback);
  });
});
