/**
 * The monitor with 100,000 events: the list's first page (and its filters, its next page,
 * a search by id prefix, a fingerprint, a bulk action's preview) answers from indexes,
 * never a scan of events_log (auto_explain reports each plan Postgres chose, as the
 * operator, through RLS), and the first rows come back within a second, warm, over HTTP.
 */
import { describe, expect, it } from "vitest";
import type { Claims } from "../../../src/bus/auth.ts";
import { asCaller } from "../../../src/bus/functions/as-caller.ts";
import { previewBulk } from "../../../src/bus/functions/monitor/bulk.ts";
import { listEvents } from "../../../src/bus/functions/monitor/events.ts";
import { bulkPreviewQuery, listQuery } from "../../../src/bus/functions/monitor/schemas.ts";
import type { Sql } from "../../../src/bus/types.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { explainingConnection, monitorClient, monitorGateway, person, seedEvents, store } from "../../support/monitor.ts";

const { sql, superuserUrl } = await useDatabase();
const admin = await person(sql, "ops@example.com", { admin: true });
const storeId = await store(sql, "Volume store");
// 100,000 events over the last day (one every 0.8 s): the mix of seedEvents.
await seedEvents(sql, 100_000, storeId, 0.8);
const plansOf = await explainingConnection(superuserUrl);

const claims = { sub: admin.id, role: "authenticated" } as Claims;
const [sample] = await sql<{ id: string; aggregate_id: string }[]>`select id, aggregate_id from feyxa.events_log where idempotency_key = 'ev-4242'`;
const second = (await asCaller(sql, claims, (tx) => listEvents(tx, listQuery.parse({})))).next_cursor!;
const planOf = (work: Parameters<typeof asCaller>[2]) => plansOf((explained: Sql) => asCaller(explained, claims, work));

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
    ["an idempotency key", { q: "ev-12345" }],
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
