/**
 * The monitor with 1,000,000 events (and 300,000 handler runs): the list's first page (and
 * its filters, its next page, a search by id prefix, a fingerprint, a waiting reason, a bulk
 * action's preview), the stats over every window and an order's story answer from indexes
 * and the rollups, never a scan of events_log (auto_explain reports each plan Postgres chose,
 * as the operator, through RLS). How fast each answers over HTTP at this size is measured by
 * the bench (BENCH_ONLY=monitor, target 300 ms), not timed here.
 */
import { describe, expect, it } from "vitest";
import type { Claims } from "../../../src/bus/auth.ts";
import { asCaller } from "../../../src/bus/functions/as-caller.ts";
import { previewBulk } from "../../../src/bus/functions/monitor/bulk.ts";
import { listEvents } from "../../../src/bus/functions/monitor/events.ts";
import { bulkPreviewQuery, listQuery, statsQuery } from "../../../src/bus/functions/monitor/schemas.ts";
import { stats } from "../../../src/bus/functions/monitor/stats.ts";
import { story } from "../../../src/bus/functions/monitor/story.ts";
import type { Sql } from "../../../src/bus/types.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { explainingConnection, MONITOR_PATHS, monitorClient, monitorGateway, person, seedVolume, store } from "../../support/monitor.ts";

const EVENTS = 1_000_000;
const { sql, superuserUrl } = await useDatabase();
const admin = await person(sql, "ops@example.com", { admin: true });
const storeId = await store(sql, "Volume store");
const sample = await seedVolume(sql, EVENTS, storeId);
const plansOf = await explainingConnection(superuserUrl);

const claims = { sub: admin.id, role: "authenticated" } as Claims;
const second = (await asCaller(sql, claims, (tx) => listEvents(tx, listQuery.parse({})))).next_cursor!;
const planOf = (work: Parameters<typeof asCaller>[2]) => plansOf((explained: Sql) => asCaller(explained, claims, work));
const noLogScan = (plan: string) => expect(plan).not.toMatch(/Seq Scan on (feyxa\.)?events_log\b/);

describe(`the monitor's reads over ${EVENTS.toLocaleString("en")} events`, () => {
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
    ["a waiting reason", { waiting: "retrying" }],
  ];
  for (const [name, query] of lists) {
    it(`lists ${name} from indexes, without a scan of events_log`, async () => {
      const plan = await planOf((tx) => listEvents(tx, listQuery.parse(query)));
      if (process.env.SHOW_PLANS) console.log(name, plan);
      expect(plan).toMatch(/Index|Bitmap/);
      noLogScan(plan);
    });
  }

  it("previews a bulk action from indexes too", async () => {
    noLogScan(await planOf((tx) => previewBulk(tx, bulkPreviewQuery.parse({ kind: "redrive", fp: FP }))));
  });

  for (const window of ["1h", "24h", "7d"]) {
    it(`reads the ${window} stats from the rollups and the queue, not the log`, async () => {
      const plan = await planOf((tx) => stats(tx, statsQuery.parse({ window })));
      if (process.env.SHOW_PLANS) console.log(window, plan);
      noLogScan(plan);
      const numbers = await asCaller(sql, claims, (tx) => stats(tx, statsQuery.parse({ window })));
      const emitted = numbers.success_rate.reduce((n, t) => n + t.total, 0);
      if (window !== "1h") expect(emitted).toBe(EVENTS); // every event, each counted once
      expect(numbers.handlers.reduce((n, h) => n + h.runs, 0)).toBeGreaterThan(0);
    });
  }

  it("reads a story by the correlation index", async () => {
    const plan = await planOf((tx) => story(tx, sample.id));
    noLogScan(plan);
    const found = await asCaller(sql, claims, (tx) => story(tx, sample.id));
    expect(found.events).toHaveLength(41);
  });

  it("finds what the searches promise", async () => {
    const page = await asCaller(sql, claims, (tx) => listEvents(tx, listQuery.parse({ q: sample.id.slice(0, 8) })));
    expect(page.events.map((e) => e.id)).toContain(sample.id);
    const dead = await asCaller(sql, claims, (tx) => previewBulk(tx, bulkPreviewQuery.parse({ kind: "redrive", fp: FP })));
    expect(dead.count).toBe(Math.floor(EVENTS / 97) - Math.floor(EVENTS / 9700)); // the dead ones (not those also i % 100)
  });

  it("answers the first rows, the stats and a story over HTTP (their time is the bench's: npm run bench, BENCH_ONLY=monitor)", async () => {
    const client = monitorClient(monitorGateway(testBus(sql, [])));
    for (const path of MONITOR_PATHS(sample.id)) expect((await client.get(admin, path)).status, path).toBe(200);
  }, 60_000);
});
