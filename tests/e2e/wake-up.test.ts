/**
 * The real wake-up path, end to end, on a hosted project in miniature (hosted-project.ts):
 * PostgreSQL 15 with pg_net and pg_cron, the functions served by Deno.
 *
 * - a new order (checkout) and a payment marked paid (its trigger) → emit_event →
 *   pg_net's request, with the key read from Vault → process-event → handlers → completed;
 * - a handler that fails once leaves its event failed; the pg_cron job the migrations
 *   scheduled, set to every 2 seconds, calls retry-failed-events, which finishes it.
 *
 * Runs in the PostgreSQL 15 tier (`npm run test:pg15`, FEYXA_TEST_PG=15); skipped elsewhere.
 */
import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUS_SCHEDULES, cronSchedule } from "../../src/bus/index.ts";
import { checkout, openShop } from "../support/marketplace.ts";
import { type HostedProject, startHostedProject, whyNotRunnable } from "./hosted-project.ts";

const inTier = process.env.FEYXA_TEST_PG === "15";
if (!inTier) console.log("tests/e2e skipped: the PostgreSQL 15 + pg_net + pg_cron tier runs them (npm run test:pg15)");

/** Polls `check` until it returns something truthy, for at most `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!inTier)("the wake-up path on PostgreSQL 15 with pg_net and pg_cron, functions on Deno", () => {
  let project: HostedProject;
  let receiver: Awaited<ReturnType<typeof flakyReceiver>>;

  beforeAll(async () => {
    const why = whyNotRunnable();
    if (why) throw new Error(`cannot run the end-to-end tier: ${why}`);
    // A count cap, as an operator may set one, so that a backlog of 250 takes a chain of invocations.
    project = await startHostedProject(["process-event", "retry-failed-events"], { secrets: { FEYXA_DRAIN_MAX_EVENTS: "100" } });
    // Before any function has read the routes (they cache them for 5 s): a remote handler
    // that fails once, and a retry backoff short enough to wait for.
    receiver = await flakyReceiver();
    await project.sql`update feyxa.event_bus_settings set outbound_allow = '{127.0.0.1}'`; // the receiver is on loopback
    await project.sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
                      values ('e2e.flaky', 'e2e.receiver', 'url', ${receiver.url})`;
    await project.sql`update feyxa.event_bus_settings set retry_base = interval '1 second'`;
  }, 120_000);
  afterAll(async () => {
    await receiver?.close();
    await project?.stop();
  }, 30_000);

  const status = async (id: string) => (await project.sql<{ status: string }[]>`select status from feyxa.events_log where id = ${id}::uuid`)[0]?.status;
  const cronJob = async () =>
    (await project.sql<{ jobid: number; schedule: string; username: string; active: boolean }[]>`
      select jobid::int, schedule, username, active from cron.job where jobname = 'feyxa-retry-failed-events'`)[0];

  it("the migrations found both extensions and scheduled retry-failed-events as postgres", async () => {
    const extensions = await project.sql`select extname from pg_extension where extname in ('pg_net', 'pg_cron') order by 1`;
    expect(extensions.map((e) => e.extname)).toEqual(["pg_cron", "pg_net"]);
    expect(await cronJob()).toMatchObject({ schedule: cronSchedule(BUS_SCHEDULES.retryFailedEvents.everyMs), username: "postgres", active: true });
    // Until the last test the wake-ups are pg_net's alone.
    await project.sql`select cron.alter_job(${(await cronJob()).jobid}, active := false)`;
  });

  it("a new order: checkout → emit_event → pg_net → process-event (Deno, key from Vault) → handlers → completed", async () => {
    const shop = await openShop(project.sql, [{ name: "Basket", price: 12_000, stock: 3 }]);
    const order = await checkout(project.sql, shop, { Basket: 1 });
    await until("order.created to complete", async () => (await status(order.event_id)) === "completed");

    // The gateway records a call once its answer is back, a moment after the event completed.
    const wake = await until("process-event's answer", async () =>
      project.calls.find((c) => c.name === "process-event" && (c.request as { event_id?: string }).event_id === order.event_id), 10_000);
    expect(wake).toMatchObject({ status: 200, authorized: true, request: { event_id: order.event_id, drain: true } });
    const runs = await project.sql`select handler_name, status from feyxa.event_handlers_log where event_id = ${order.event_id}::uuid order by 1`;
    expect(runs.map((r) => `${r.handler_name}:${r.status}`)).toEqual([
      "commerce.create_notification:success", "commerce.decrement_stock:success", "commerce.send_confirmation_email:success",
      "fintech.create_escrow:success", "intelligence.attribute_conversion:success", "intelligence.update_daily_metrics:success",
    ]);
    const [escrow] = await project.sql`select status from escrows where order_id = ${order.order_id}::uuid`;
    expect(escrow.status).toBe("held");
    const [response] = await project.admin`select count(*)::int as n from net._http_response where status_code = 200`;
    expect(response.n).toBeGreaterThanOrEqual(1);

    // A business write whose trigger emits: the payment is marked paid.
    await project.sql`update payments set status = 'paid', provider_ref = 'pi_e2e' where order_id = ${order.order_id}::uuid`;
    const [paid] = await project.sql<{ id: string }[]>`select id from feyxa.events_log where event_type = 'payment.paid' and aggregate_id = (select id from payments where order_id = ${order.order_id}::uuid)`;
    await until("payment.paid to complete", async () => (await status(paid.id)) === "completed");
    const [state] = await project.sql`select o.status as order_status, e.funded_at is not null as funded
                                      from orders o join escrows e on e.order_id = o.id where o.id = ${order.order_id}::uuid`;
    expect(state).toEqual({ order_status: "paid", funded: true });
  });

  it("a backlog larger than one invocation drains through the invocations' own wake-ups, with no sweep", async () => {
    // One transaction, one wake-up; each invocation claims at most 100 (FEYXA_DRAIN_MAX_EVENTS) and
    // asks for the next while pg_net's worker still holds its own request, deleted but uncommitted.
    const [{ n }] = await project.sql<{ n: number }[]>`
      select count(feyxa.emit_event('e2e.burst', 'order', gen_random_uuid(), null, '{}'::jsonb))::int as n from generate_series(1, 250)`;
    expect(n).toBe(250);
    await until("the burst to complete", async () => {
      const [row] = await project.sql<{ left: number }[]>`select count(*)::int as left from feyxa.events_log where event_type = 'e2e.burst' and status <> 'completed'`;
      return row.left === 0;
    }, 20_000);
    const drains = project.calls.filter((c) => c.name === "process-event" && (c.response as { drained?: { claimed: number } }).drained?.claimed);
    expect(drains.filter((c) => (c.response as { drained: { stopped: string } }).drained.stopped === "max_events").length).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it("a failed event is finished by the pg_cron job calling retry-failed-events (Deno)", async () => {
    const [{ id }] = await project.sql<{ id: string }[]>`select feyxa.emit_event('e2e.flaky', 'order', gen_random_uuid(), null, '{}'::jsonb) as id`;
    await until("the first attempt to fail", async () => (await status(id)) === "failed");
    expect(receiver.deliveries).toBe(1);

    await project.sql`select cron.alter_job(${(await cronJob()).jobid}, schedule := '2 seconds', active := true)`;
    try {
      await until("the cron job's retry to complete the event", async () => (await status(id)) === "completed", 45_000);
    } finally {
      await project.sql`select cron.alter_job(${(await cronJob()).jobid}, active := false)`;
    }
    expect(receiver.deliveries).toBe(2);
    const runs = await project.sql`select attempt, status from feyxa.event_handlers_log where event_id = ${id}::uuid order by attempt`;
    expect(runs.map((r) => `${r.attempt}:${r.status}`)).toEqual(["1:failed", "2:success"]);
    const sweeps = await until("retry-failed-events' answer", async () => {
      const answered = project.calls.filter((c) => c.name === "retry-failed-events");
      return answered.some((c) => ((c.response as { claimed?: number }).claimed ?? 0) >= 1) && answered;
    }, 10_000);
    expect(sweeps.every((c) => c.status === 200 && c.authorized)).toBe(true);
    const [cron] = await project.sql`select count(*)::int as n from cron.job_run_details where status = 'succeeded'`;
    expect(cron.n).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

/** A webhook receiver that answers 503 (retry after 1 s) to its first delivery, then 200. */
async function flakyReceiver(): Promise<{ url: string; deliveries: number; close(): Promise<void> }> {
  const state = { deliveries: 0 };
  const server = createServer((req, res) => {
    req.resume();
    state.deliveries += 1;
    if (state.deliveries === 1) res.writeHead(503, { "retry-after": "1" }).end("busy");
    else res.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    get deliveries() {
      return state.deliveries;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
