/**
 * kill -9 under load: dispatcher processes running the real engines are killed in the
 * middle of their batches, again and again. Every order must still end completed, with
 * each effect exactly once: one escrow, one stock decrement, one email per order.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { openShop } from "../support/marketplace.ts";
import { dispatcherPool, sleep, startDispatcher } from "./support/processes.ts";

const db = await useDatabase();
const { sql } = db;
// Retries come back in a fraction of a second instead of minutes.
await sql`update feyxa.event_bus_settings set retry_base = interval '200 milliseconds', retry_factor = 1, retry_jitter = 0, default_max_retries = 5`;

describe("kill -9 in the middle of batches", () => {
  it("2,000 orders, 10 kills: every event completed, every effect once", async () => {
    const shop = await openShop(sql, [{ name: "Tea", price: 1_000, stock: 100_000 }, { name: "Cup", price: 500, stock: 100_000 }]);
    await sql`
      select checkout(${shop.storeId}::uuid, 'buyer' || i || '@example.com',
                      jsonb_build_array(jsonb_build_object('product_id', ${shop.products.Tea}::text, 'quantity', 1 + i % 3),
                                        jsonb_build_object('product_id', ${shop.products.Cup}::text, 'quantity', 1)), 'card')
      from generate_series(1, 2000) i`;

    const pool = dispatcherPool(db.url, 2);
    await pool.ready();
    const started = Date.now();
    while (pool.kills.length < 10 && Date.now() - started < 60_000) {
      await sleep(400);
      const [{ n }] = await sql`select count(*)::int as n from feyxa.events_log where status = 'processing'`;
      if (n > 0) await pool.killOne(sql); // kill only in the middle of a batch
    }
    expect(pool.kills.length).toBe(10);

    await expect.poll(async () => {
      const [r] = await sql`select count(*) filter (where status not in ('completed', 'dead'))::int as open from feyxa.events_log`;
      return r.open;
    }, { timeout: 90_000, interval: 500 }).toBe(0);

    const [facts] = await sql`
      select (select count(*)::int from orders where store_id = ${shop.storeId}) as orders,
             (select count(*)::int from feyxa.events_log where status = 'completed') as completed,
             (select count(*)::int from feyxa.events_log where status = 'dead') as dead,
             (select count(*)::int from escrows where store_id = ${shop.storeId}) as escrows,
             (select count(*)::int from email_outbox where store_id = ${shop.storeId}) as emails,
             (select count(*)::int from stock_movements) as movements,
             (select 100000 - stock from products where id = ${shop.products.Tea}) as tea_taken,
             (select sum(oi.quantity)::int from order_items oi join products p on p.id = oi.product_id where p.name = 'Tea') as tea_ordered,
             (select count(*)::int from feyxa.events_log where attempt > 1) as retried`;
    console.log(`kill -9 x10 over 2,000 orders: ${JSON.stringify(facts)}`);
    expect(facts).toMatchObject({ orders: 2000, dead: 0, escrows: 2000, emails: 2000, movements: 4000 });
    expect(facts.completed).toBe(2000);
    expect(facts.tea_taken).toBe(facts.tea_ordered);
    expect(facts.retried).toBeGreaterThan(0); // the kills did interrupt attempts
  }, 180_000);

  it("a handler that exits its process is retried on the next process, then dead-lettered with the reason", async () => {
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name) values ('fault.exit_event', 'fault.exit')`;
    await sql`update feyxa.event_bus_settings set default_max_retries = 2`;
    const [{ id }] = await sql`select feyxa.emit_event('fault.exit_event', 'test', gen_random_uuid(), null, '{}'::jsonb) as id`;
    let exits = 0;
    for (let i = 0; i < 6; i++) {
      const [row] = await sql`select status from feyxa.events_log where id = ${id}`;
      if (row.status === "dead") break;
      const worker = startDispatcher(db.url);
      const code = await Promise.race([worker.exited, sleep(8_000).then(() => "alive")]);
      if (code === 3) exits++;
      else worker.child.kill("SIGKILL");
      await sleep(1_600); // the lease runs out
    }
    const reaper = startDispatcher(db.url, { FEYXA_HANDLERS: "tests/faults/support/no-handlers.ts" });
    await reaper.ready;
    await expect.poll(async () => (await sql`select status from feyxa.events_log where id = ${id}`)[0].status, { timeout: 10_000 }).toBe("dead");
    const [row] = await sql`select error_message, retry_count from feyxa.events_log where id = ${id}`;
    expect(exits).toBe(3); // the first attempt and two retries each took a process down
    expect(row.error_message).toMatch(/^lease expired: worker dispatcher:\S+ stopped renewing during attempt 3$/);
  }, 90_000);
});
