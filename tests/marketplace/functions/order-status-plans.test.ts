/**
 * order-status is anonymous and polled by the storefront: every query it runs on events_log (and email_outbox)
 * is served by an index, not a scan of the log. The real handler runs over 100,000 events,
 * with auto_explain reporting the plan Postgres chose for each statement.
 */
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../../src/local/seed-demo.ts";
import { testFunctions } from "../../support/auth.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";

const { sql, superuserUrl } = await useDatabase();
const plans: string[] = [];
// LOAD 'auto_explain' takes a superuser (hosted projects do not let postgres load it either).
const explained = postgres(superuserUrl, { max: 1, onnotice: (notice) => plans.push(String(notice.message)) });
afterAll(() => explained.end());

await seedDemo(sql);
const [product] = await sql`select id, store_id from products order by name limit 1`;
const checkout = testFunctions(testBus(sql, []))["checkout"];
const order = await (await checkout(new Request("http://localhost/functions/v1/checkout", {
  method: "POST", headers: { "content-type": "application/json" },
  body: JSON.stringify({ store_id: product.store_id, customer_email: "plan@example.com", payment_method: "card",
                         items: [{ product_id: product.id, quantity: 1 }] }),
}))).json() as { order_id: string };
// A month of other orders' events, payments and deliveries among them, and two about this order.
await sql`
  insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, payload, created_at)
  select (array['order.created', 'payment.paid', 'delivery.shipped', 'ticket.created'])[1 + i % 4],
         (array['order', 'payment', 'delivery', 'ticket'])[1 + i % 4], gen_random_uuid(), 'order-plan-' || i, 'completed',
         jsonb_build_object('order_id', gen_random_uuid()), now() - make_interval(secs => i * 26)
  from generate_series(1, 100000) i`;
await sql`
  insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, payload)
  values ('payment.paid', 'payment', gen_random_uuid(), 'order-plan-paid', 'completed', ${sql.json({ order_id: order.order_id })}),
         ('delivery.shipped', 'delivery', gen_random_uuid(), 'order-plan-shipped', 'completed', ${sql.json({ order_id: order.order_id })})`;
await sql`
  insert into email_outbox (to_email, subject, html, dedupe_key)
  select 'someone@example.com', 'Order', '<p>thanks</p>', gen_random_uuid() || ':commerce.send_confirmation'
  from generate_series(1, 20000)`;
await sql`analyze feyxa.events_log; analyze email_outbox`.simple();
await explained`load 'auto_explain'`;
await explained`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_level', 'notice', false),
                       set_config('client_min_messages', 'notice', false)`;

describe("order-status's plans", () => {
  it("reads an order, its emails and its events over 100,000 others through indexes, never a Seq Scan on events_log or email_outbox", async () => {
    const orderStatus = testFunctions(testBus(explained, []))["order-status"];
    plans.length = 0;
    const response = await orderStatus(new Request(`http://localhost/functions/v1/order-status?order_id=${order.order_id}`));
    expect(response.status).toBe(200);
    const { events } = await response.json() as { events: { event_type: string }[] };
    expect(events.map((e) => e.event_type).sort()).toEqual(["delivery.shipped", "order.created", "payment.paid"]);

    const onLog = plans.filter((p) => p.includes("events_log"));
    if (process.env.SHOW_PLANS) console.log(onLog.join("\n"));
    expect(onLog.length).toBeGreaterThanOrEqual(2); // the order (with its order.created) and its events
    expect(onLog.join("\n")).not.toMatch(/Seq Scan on feyxa.events_log/);
    expect(onLog.join("\n")).toMatch(/events_log_order_ref_idx/);
    expect(plans.join("\n")).not.toMatch(/Seq Scan on (events_log|email_outbox)/);
  });
});
