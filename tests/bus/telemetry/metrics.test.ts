import { describe, expect, it } from "vitest";
import { defineHandler } from "../../../src/bus/define-handler.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { createFunctions } from "../../../src/marketplace/functions/index.ts";
import { TEST_SECRET_KEY, testAuth, token } from "../../support/auth.ts";
import { emitTest, markDead, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { drain } from "../../support/marketplace.ts";
import { parsePrometheusText, valueOf } from "../../support/prometheus.ts";

const { sql } = await useDatabase();
await subscribe(sql, "metered.ok", "metered.fine");
await subscribe(sql, "metered.bad", "metered.fine", "metered.broken");
const bus = testBus(sql, [
  defineHandler("metered.fine", async () => {}),
  defineHandler("metered.broken", async () => {
    throw new Error("nope");
  }),
]);
let env: Record<string, string> = { FEYXA_METRICS_SETTLE_MS: "0", FEYXA_METRICS_CACHE_MS: "0" };
const gateway = createGateway(createFunctions(bus, undefined, testAuth, () => env));

const scrape = (path = "/functions/v1/metrics", headers: Record<string, string> = { apikey: TEST_SECRET_KEY }) =>
  gateway(new Request(`http://localhost:54321${path}`, { headers }));
async function metrics() {
  const res = await scrape();
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await res.text());
}

describe("the strict text-format parser", () => {
  const bad: [string, string][] = [
    ["no final newline", "a 1"],
    ["a TYPE after the samples", "a 1\n# TYPE a gauge\n"],
    ["interleaved families", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n"],
    ["a bad escape", "a{x=\"\\t\"} 1\n"],
    ["a duplicate series", "a{x=\"1\"} 1\na{x=\"1\"} 2\n"],
    ["buckets not cumulative", "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"],
    ["a negative counter", "# TYPE c counter\nc -1\n"],
  ];
  for (const [what, text] of bad) it(`refuses ${what}`, () => expect(() => parsePrometheusText(text)).toThrow());
});

describe("metrics: the function and the gateway's /metrics", () => {
  it("answers only the server: anon 401, a signed-in stranger 403, the secret key 200 (also at /metrics)", async () => {
    expect((await scrape("/functions/v1/metrics", {})).status).toBe(401);
    expect((await scrape("/metrics", {})).status).toBe(401);
    expect((await scrape("/functions/v1/metrics", { authorization: `Bearer ${await token(uuid())}` })).status).toBe(403);
    expect((await scrape("/metrics", { authorization: `Bearer ${TEST_SECRET_KEY}` })).status).toBe(200);
  });

  it("after a known workload, its values are the database's", async () => {
    await metrics();
    for (let i = 0; i < 3; i++) await emitTest(bus, "metered.ok");
    const bad = [await emitTest(bus, "metered.bad"), await emitTest(bus, "metered.bad")];
    await drain(bus);
    await markDead(sql, bad[1]);
    await emitTest(bus, "metered.waiting"); // due, nobody has claimed it
    await sql`insert into feyxa.webhook_deliveries (event_id, handler_name, attempt, status_code)
              values (${uuid()}, 'hooks.crm', 1, 200), (${uuid()}, 'hooks.crm', 1, 204), (${uuid()}, 'hooks.crm', 1, 503), (${uuid()}, 'hooks.crm', 1, null)`;

    const m = await metrics();
    expect(valueOf(m, "feyxa_events_emitted_total", { type: "metered.ok" })).toBe(3);
    expect(valueOf(m, "feyxa_events_emitted_total", { type: "metered.bad" })).toBe(2);
    expect(valueOf(m, "feyxa_handler_runs_total", { handler: "metered.fine", outcome: "success" })).toBe(5);
    expect(valueOf(m, "feyxa_handler_runs_total", { handler: "metered.broken", outcome: "failed" })).toBe(2);
    const runs = await sql<{ handler_name: string; status: string; n: number }[]>`
      select handler_name, status, count(*)::int as n from feyxa.event_handlers_log group by 1, 2`;
    for (const r of runs) expect(valueOf(m, "feyxa_handler_runs_total", { handler: r.handler_name, outcome: r.status })).toBe(r.n);
    expect(valueOf(m, "feyxa_handler_duration_seconds_count", { handler: "metered.fine" })).toBe(5);
    expect(valueOf(m, "feyxa_handler_duration_seconds_bucket", { handler: "metered.fine", le: "+Inf" })).toBe(5);
    expect(m.get("feyxa_handler_duration_seconds")?.type).toBe("histogram");

    expect(valueOf(m, "feyxa_events", { type: "metered.bad", status: "failed" })).toBe(1);
    expect(valueOf(m, "feyxa_events", { type: "metered.bad", status: "dead" })).toBe(1);
    expect(valueOf(m, "feyxa_retries_scheduled", { type: "metered.bad" })).toBe(1);
    expect(valueOf(m, "feyxa_dead_letters", { type: "metered.bad" })).toBe(1);
    expect(valueOf(m, "feyxa_events", { type: "metered.ok", status: "pending" })).toBeUndefined(); // completed: not open
    const open = await sql<{ event_type: string; status: string; n: number }[]>`
      select e.event_type, e.status, count(*)::int as n from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id group by 1, 2`;
    for (const r of open) expect(valueOf(m, "feyxa_events", { type: r.event_type, status: r.status })).toBe(r.n);
    expect(valueOf(m, "feyxa_queue_due", { type: "metered.waiting" })).toBe(1);
    expect(valueOf(m, "feyxa_queue_oldest_due_age_seconds", { type: "metered.waiting" })).toBeGreaterThanOrEqual(0);
    expect(valueOf(m, "feyxa_queue_oldest_due_age_seconds", { type: "metered.bad" })).toBeUndefined(); // its retry is not due yet

    expect(valueOf(m, "feyxa_webhook_deliveries_total", { handler: "hooks.crm", class: "2xx" })).toBe(2);
    expect(valueOf(m, "feyxa_webhook_deliveries_total", { handler: "hooks.crm", class: "5xx" })).toBe(1);
    expect(valueOf(m, "feyxa_webhook_deliveries_total", { handler: "hooks.crm", class: "none" })).toBe(1);

    // A second read counts nothing twice.
    const again = await metrics();
    expect(valueOf(again, "feyxa_handler_runs_total", { handler: "metered.fine", outcome: "success" })).toBe(5);
    expect(valueOf(again, "feyxa_events_emitted_total", { type: "metered.ok" })).toBe(3);
  });

  const okEmitted = async () => valueOf(await metrics(), "feyxa_events_emitted_total", { type: "metered.ok" })!;
  /** Scrapes with `settings`, emits one event, scrapes again with them, then without settle or cache. */
  async function throughOneEmit(settings: Record<string, string>) {
    env = { FEYXA_METRICS_SETTLE_MS: "0", FEYXA_METRICS_CACHE_MS: "0", ...settings };
    const before = await okEmitted();
    await emitTest(bus, "metered.ok");
    const during = await okEmitted();
    env = { FEYXA_METRICS_SETTLE_MS: "0", FEYXA_METRICS_CACHE_MS: "0" };
    return { before, during, after: await okEmitted() };
  }

  it("counts a row only once it has settled (FEYXA_METRICS_SETTLE_MS), then exactly once", async () => {
    const { before, during, after } = await throughOneEmit({ FEYXA_METRICS_SETTLE_MS: "600000" });
    expect([during, after]).toEqual([before, before + 1]);
  });

  it("is cached for FEYXA_METRICS_CACHE_MS: a scrape within it reads nothing new", async () => {
    const { before, during, after } = await throughOneEmit({ FEYXA_METRICS_CACHE_MS: "60000" });
    expect([during, after]).toEqual([before, before + 1]);
  });

  it("a process that claims adds its in-flight count and its claim latency", async () => {
    await bus.claimDue(1).then((events) => bus.process(events)); // not timed: only the Dispatcher times claims
    bus.processMetrics.claimed(3);
    const m = await metrics();
    expect(valueOf(m, "feyxa_dispatcher_in_flight", { worker: bus.workerId })).toBe(0);
    expect(valueOf(m, "feyxa_claim_duration_seconds_bucket", { worker: bus.workerId, le: "0.005" })).toBe(1);
    expect(valueOf(m, "feyxa_claim_duration_seconds_count", { worker: bus.workerId })).toBe(1);
  });
});
