/**
 * Each filter of the monitor's list is served by the index meant for it, not a scan of
 * events_log: the real queries run (as an admin, through RLS) over 30,000 events, with
 * auto_explain reporting the plan Postgres chose for each. (With 100,000 events, and the
 * issue 15 filters: event-monitor-volume.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { Claims } from "../../../src/bus/auth.ts";
import { asCaller } from "../../../src/bus/functions/as-caller.ts";
import { listEvents } from "../../../src/bus/functions/monitor/events.ts";
import { listQuery } from "../../../src/bus/functions/monitor/schemas.ts";
import { useDatabase } from "../../support/database.ts";
import { uuid } from "../../support/bus.ts";
import { explainingConnection, person, seedEvents, store } from "../../support/monitor.ts";

const { sql, superuserUrl } = await useDatabase();
const admin = await person(sql, "ops@example.com", { admin: true });
const storeId = await store(sql, "Plan store");
await seedEvents(sql, 30_000, storeId);
const plansOf = await explainingConnection(superuserUrl);

const claims = { sub: admin.id, role: "authenticated" } as Claims;
const planOf = (query: Record<string, string>) => plansOf((explained) => asCaller(explained, claims, (tx) => listEvents(tx, listQuery.parse(query))));

describe("the list's plans", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ["newest first", {}, /events_log_created_idx/],
    ["a status", { status: "dead" }, /event_queue/],
    ["an exact type", { type: "payment.failed" }, /events_log_type_created_idx|events_log_created_idx/],
    ["a type prefix", { type: "delivery.*" }, /events_log_type_created_idx|events_log_created_idx/],
    ["a tenant", { tenant: storeId }, /events_log_tenant_created_idx/],
    ["an idempotency key", { q: "ev-12345" }, /events_log_idempotency_key_key/],
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
