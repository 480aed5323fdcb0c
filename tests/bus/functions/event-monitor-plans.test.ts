/**
 * Each filter of the monitor's list is served by an index, not a scan of events_log:
 * the real queries run (as an admin, through RLS) over 30,000 events, with auto_explain
 * reporting the plan Postgres chose for each.
 */
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import type { Claims } from "../../../src/bus/auth.ts";
import { asCaller } from "../../../src/bus/functions/monitor/as-caller.ts";
import { listEvents } from "../../../src/bus/functions/monitor/events.ts";
import { listQuery } from "../../../src/bus/functions/monitor/schemas.ts";
import { useDatabase } from "../../support/database.ts";
import { uuid } from "../../support/bus.ts";

const { sql, superuserUrl } = await useDatabase();
const plans: string[] = [];
// LOAD 'auto_explain' takes a superuser (hosted projects do not let postgres load it either).
const explained = postgres(superuserUrl, { max: 1, onnotice: (notice) => plans.push(String(notice.message)) });
afterAll(() => explained.end());

const admin = uuid();
const storeId = uuid();
await sql`insert into auth.users (id) values (${admin})`;
await sql`insert into marketplace_admins (user_id) values (${admin})`;
await sql`insert into stores (id, name, slug) values (${storeId}, 'Plan store', 'plan-store')`;
await sql`
  insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, tenant_id, idempotency_key, status, next_retry_at, created_at)
  select (array['order.created', 'order.paid', 'payment.failed', 'delivery.shipped', 'ticket.created'])[1 + i % 5], 'order',
         gen_random_uuid(), case when i % 50 = 0 then ${storeId}::uuid else gen_random_uuid() end, 'plan-' || i,
         case when i % 100 = 0 then 'failed' when i % 97 = 0 then 'dead' else 'completed' end,
         case when i % 100 = 0 then now() + interval '1 hour' end,
         now() - make_interval(secs => i)
  from generate_series(1, 30000) i`;
// The open ones are in the queue, as the state functions would have left them.
await sql`insert into feyxa.event_queue (event_id, due_at)
          select id, case when status = 'dead' then 'infinity' else next_retry_at end from feyxa.events_log where status <> 'completed'`;
await sql`analyze feyxa.events_log; analyze feyxa.event_queue`.simple();
await explained`load 'auto_explain'`;
await explained`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_level', 'notice', false),
                       set_config('client_min_messages', 'notice', false)`;

const claims = { sub: admin, role: "authenticated" } as Claims;
async function planOf(query: Record<string, string>): Promise<string> {
  plans.length = 0;
  await asCaller(explained, claims, (tx) => listEvents(tx, listQuery.parse(query)));
  return plans.filter((p) => p.includes("events_log")).join("\n");
}

describe("the list's plans", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ["newest first", {}, /events_log_created_idx/],
    ["a status", { status: "dead" }, /event_queue/],
    ["an exact type", { type: "payment.failed" }, /events_log_type_created_idx|events_log_created_idx/],
    ["a type prefix", { type: "delivery.*" }, /events_log_type_created_idx|events_log_created_idx/],
    ["a tenant", { tenant: storeId }, /events_log_tenant_created_idx/],
    ["an idempotency key", { q: "plan-12345" }, /events_log_idempotency_key_key/],
    ["an event or aggregate id", { q: uuid() }, /events_log_pkey[\s\S]*events_log_aggregate_idx|events_log_aggregate_idx[\s\S]*events_log_pkey/],
  ];
  for (const [name, query, index] of cases) {
    it(`uses an index for ${name}`, async () => {
      const plan = await planOf(query);
      if (process.env.SHOW_PLANS) console.log(name, plan);
      expect(plan).toMatch(index);
      expect(plan).not.toMatch(/Seq Scan on feyxa.events_log/);
    });
  }
});
