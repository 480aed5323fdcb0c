/**
 * The monitor with 100,000 events: the list's first page (and its filters, its next page,
 * a search by id prefix, a fingerprint, a bulk action's preview) answers from indexes,
 * never a scan of events_log (auto_explain reports each plan Postgres chose, as the
 * operator, through RLS), and the first rows come back within a second, warm, over HTTP.
 */
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import type { Claims } from "../../../src/bus/auth.ts";
import { asCaller } from "../../../src/bus/functions/monitor/as-caller.ts";
import { previewBulk } from "../../../src/bus/functions/monitor/bulk.ts";
import { listEvents } from "../../../src/bus/functions/monitor/events.ts";
import { bulkPreviewQuery, listQuery } from "../../../src/bus/functions/monitor/schemas.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { monitorClient, monitorGateway, person, store } from "../../support/monitor.ts";

const { sql, superuserUrl } = await useDatabase();
const plans: string[] = [];
// LOAD 'auto_explain' takes a superuser (hosted projects do not let postgres load it either).
const explained = postgres(superuserUrl, { max: 1, onnotice: (notice) => plans.push(String(notice.message)) });
afterAll(() => explained.end());

const admin = await person(sql, "ops@example.com", { admin: true });
const storeId = await store(sql, "Volume store");
// 100,000 events over the last day: 1 in 100 failed, 1 in 97 dead (with an error naming its
// own payout), 1 in 50 of the store; the open ones in the queue, as the transitions leave them.
await sql`
  insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, tenant_id, idempotency_key, status, next_retry_at,
                                error_message, created_at)
  select (array['order.created', 'order.paid', 'payout.requested', 'delivery.shipped', 'ticket.created'])[1 + i % 5], 'order',
         gen_random_uuid(), case when i % 50 = 0 then ${storeId}::uuid else gen_random_uuid() end, 'vol-' || i,
         case when i % 100 = 0 then 'failed' when i % 97 = 0 then 'dead' else 'completed' end,
         case when i % 100 = 0 then now() + interval '1 hour' end,
         case when i % 97 = 0 then 'fintech.pay: payout ' || gen_random_uuid() || ' of ' || i || ' XOF refused' end,
         now() - make_interval(secs => i * 0.8)
  from generate_series(1, 100000) i`;
await sql`insert into feyxa.event_queue (event_id, due_at)
          select id, case when status = 'dead' then 'infinity' else next_retry_at end from feyxa.events_log where status <> 'completed'`;
await sql`analyze feyxa.events_log; analyze feyxa.event_queue`.simple();
await explained`load 'auto_explain'`;
await explained`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_level', 'notice', false),
                       set_config('client_min_messages', 'notice', false)`;
const [sample] = await sql<{ id: string; aggregate_id: string }[]>`select id, aggregate_id from feyxa.events_log where idempotency_key = 'vol-4242'`;
const [second] = await asCaller(sql, { sub: admin.id, role: "authenticated" } as Claims, (tx) => listEvents(tx, listQuery.parse({})))
  .then((page) => [page.next_cursor!]);

const claims = { sub: admin.id, role: "authenticated" } as Claims;
async function planOf(work: Parameters<typeof asCaller>[2]): Promise<string> {
  plans.length = 0;
  await asCaller(explained, claims, work);
  return plans.filter((p) => p.includes("events_log")).join("\n");
}

describe("the monitor's reads over 100,000 events", () => {
  const FP = "fintech.pay: payout <id> of <n> XOF refused";
  const lists: [string, Record<string, string>][] = [
    ["the newest page", {}],
    ["the next page", { cursor: second }],
    ["a status", { status: "failed,dead" }],
    ["a type prefix without a wildcard", { type: "payout" }],
    ["a type and a time range", { type: "order.paid", from: new Date(Date.now() - 3_600_000).toISOString() }],
    ["a tenant", { tenant: storeId }],
    ["an event id's first 8 characters", { q: sample.id.slice(0, 8) }],
    ["an aggregate id", { q: sample.aggregate_id }],
    ["an idempotency key", { q: "vol-12345" }],
    ["an error fingerprint", { fp: FP }],
  ];
  for (const [name, query] of lists) {
    it(`lists ${name} from indexes, without a scan of events_log`, async () => {
      const plan = await planOf((tx) => listEvents(tx, listQuery.parse(query)));
      if (process.env.SHOW_PLANS) console.log(name, plan);
      expect(plan).toMatch(/Index|Bitmap/);
      expect(plan).not.toMatch(/Seq Scan on feyxa.events_log/);
    });
  }

  it("previews a bulk action from indexes too", async () => {
    const plan = await planOf((tx) => previewBulk(tx, bulkPreviewQuery.parse({ kind: "redrive", fp: FP })));
    expect(plan).not.toMatch(/Seq Scan on feyxa.events_log/);
  });

  it("finds what the searches promise", async () => {
    const page = await asCaller(sql, claims, (tx) => listEvents(tx, listQuery.parse({ q: sample.id.slice(0, 8) })));
    expect(page.events.map((e) => e.id)).toContain(sample.id);
    const dead = await asCaller(sql, claims, (tx) => previewBulk(tx, bulkPreviewQuery.parse({ kind: "redrive", fp: FP })));
    expect(dead.count).toBe(Math.floor(100000 / 97) - Math.floor(100000 / 9700)); // the dead ones (not those also i % 100)
  });

  it("shows the first rows within a second, warm, over HTTP", async () => {
    const client = monitorClient(monitorGateway(testBus(sql, [])));
    for (const path of ["/events", "/events?status=dead", "/events?type=payout", "/failures"]) {
      await client.get(admin, path); // warm
      const started = performance.now();
      const res = await client.get(admin, path);
      const ms = performance.now() - started;
      expect(res.status, path).toBe(200);
      expect(ms, `${path}: ${Math.round(ms)} ms`).toBeLessThan(1000);
    }
  }, 30_000);
});
