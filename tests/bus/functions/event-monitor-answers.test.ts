/**
 * event-monitor answers exactly what its schemas say (src/bus/functions/monitor/answers.ts,
 * the types the monitor page reads): every route's real answer, over events that failed,
 * died, completed, were scheduled, streamed and delivered to a remote handler, parses with
 * its schema, strictly, so a field the API adds, drops or renames, or a type it changes,
 * fails here and not in an operator's browser.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { appendToStream } from "../../../src/bus/index.ts";
import { monitorAnswers } from "../../../src/bus/functions/index.ts";
import { countingHandler, markDead, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { monitorClient, monitorGateway, person, type Person, store } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const ok = countingHandler("ans.ok");
const flaky = countingHandler("ans.flaky", () => new Error("flaky is down"));
const bus = testBus(sql, [ok.handler, flaky.handler]);
const client = monitorClient(monitorGateway(bus));
let admin: Person, member: Person;
const ids: Record<string, string> = {};

beforeAll(async () => {
  await subscribe(sql, "ans.placed", "ans.ok");
  await subscribe(sql, "ans.paid", "ans.ok", "ans.flaky");
  const shop = await store(sql, "Answer shop");
  admin = await person(sql, "ans-admin@example.com", { admin: true });
  member = await person(sql, "ans-member@example.com", { stores: [shop] });
  const emit = async (type: string, more: Record<string, unknown> = {}) =>
    (await bus.emit({ event_type: type, aggregate_type: "order", aggregate_id: uuid(), tenant_id: shop, payload: { n: 1 }, ...more })).eventId;
  ids.placed = await emit("ans.placed", { ordering_key: `line-${uuid()}` });
  ids.failed = await emit("ans.paid");
  ids.dead = await emit("ans.paid");
  ids.silent = await emit("ans.paid");
  ids.scheduled = await emit("ans.placed", { delay: 3600 });
  await bus.drainOnce(50);
  await markDead(sql, ids.dead, "ans.flaky: payout 12 refused");
  await sql`update feyxa.events_log set error_message = null where id = ${ids.silent}`;
  await markDead(sql, ids.silent);
  await sql`insert into feyxa.webhook_deliveries (event_id, handler_name, attempt, status_code, response_excerpt, duration_ms)
            values (${ids.failed}, 'ans.flaky', 1, 503, 'busy', 12), (${ids.failed}, 'ans.remote', 1, null, null, 15000)`;
  const streamed = await appendToStream(sql, { event_type: "order.created", aggregate_type: "order", aggregate_id: uuid(), tenant_id: shop }, 0);
  ids.streamed = streamed.eventId;
});

/** The answer's JSON, after checking its status and that its schema parses it with no issue. */
async function answer(name: keyof typeof monitorAnswers, response: Promise<Response>, status = 200) {
  const res = await response;
  const json = await res.json();
  expect(res.status, JSON.stringify(json)).toBe(status);
  const parsed = monitorAnswers[name].safeParse(json);
  expect(parsed.success ? [] : parsed.error.issues, `${name}: ${JSON.stringify(json).slice(0, 2000)}`).toEqual([]);
  return json;
}

describe("event-monitor's answers, parsed by the schemas the page's types come from", () => {
  it("GET /me, for an admin and a store member", async () => {
    expect((await answer("me", client.get(admin, "/me"))).is_admin).toBe(true);
    expect((await answer("me", client.get(member, "/me"))).tenants).toHaveLength(1);
  });

  it("GET /events, a page and the next", async () => {
    const first = await answer("events", client.get(admin, "/events?limit=2"));
    expect(first.next_cursor).not.toBeNull();
    await answer("events", client.get(admin, `/events?limit=2&cursor=${first.next_cursor}`));
    await answer("events", client.get(admin, "/events?status=failed,dead"));
  });

  it("GET /events/<id>: runs, deliveries, a line, a schedule, a stream", async () => {
    const failed = await answer("event", client.get(admin, `/events/${ids.failed}`));
    expect(failed.deliveries).toHaveLength(2);
    expect(failed.attempts[0].handlers.length).toBeGreaterThan(0);
    expect((await answer("event", client.get(admin, `/events/${ids.placed}`))).flow.ordering_key).toMatch(/^line-/);
    expect((await answer("event", client.get(admin, `/events/${ids.scheduled}`))).flow.scheduled).toBe(true);
    expect((await answer("event", client.get(admin, `/events/${ids.streamed}`))).timeline).toHaveLength(1);
  });

  it("GET /stats (the retry queue by its real policy), /failures (an error with no message has no fingerprint), /routes", async () => {
    const stats = await answer("stats", client.get(admin, "/stats?window=1h"));
    expect(stats.retry_queue.next.find((e: { id: string }) => e.id === ids.failed))
      .toMatchObject({ attempts_used: 1, attempts_allowed: 4, policy_handler: "ans.flaky", policy_route: null });
    const { groups } = await answer("failures", client.get(admin, "/failures"));
    expect(groups.some((g: { fingerprint: string | null }) => g.fingerprint === null)).toBe(true);
    await answer("routes", client.get(admin, "/routes?window=1h"));
    await answer("routeWaiting", client.get(admin, "/routes/waiting?event_pattern=ans.paid&handler_name=ans.flaky"));
  });

  it("POST /actions, each verb; GET /actions, the trail", async () => {
    const act = (body: Record<string, unknown>) => answer("act", client.post(admin, "/actions", { action_id: uuid(), ...body }));
    expect(await act({ kind: "retry", event_id: ids.dead })).toMatchObject({ changed: true, previous_status: "dead" });
    expect(await act({ kind: "retry", event_id: ids.placed })).toMatchObject({ changed: false, status: "completed" });
    expect(await act({ kind: "redrive", event_type: "ans.paid" })).toMatchObject({ kind: "redrive" });
    await subscribe(sql, "ans.placed", "ans.late"); // routed since the event completed: it owes that handler a run
    expect(await act({ kind: "replay", event_id: ids.placed, handler_name: "ans.late" })).toMatchObject({ will_run: ["ans.late"] });
    expect(await act({ kind: "cancel", event_id: ids.scheduled, reason: "test" })).toMatchObject({ status: "cancelled" });
    expect(await act({ kind: "discard", event_id: ids.failed, reason: "test" })).toMatchObject({ status: "discarded" });
    await answer("actions", client.get(admin, "/actions"));
  });

  it("GET and POST /bulk", async () => {
    await answer("bulkPreview", client.get(admin, "/bulk?kind=retry"));
    await answer("bulkPreview", client.get(admin, "/bulk?kind=redrive&status=completed"));
    await answer("bulk", client.post(admin, "/bulk", { action_id: uuid(), kind: "retry", filter: {} }));
    await answer("bulk", client.post(admin, "/bulk", { action_id: uuid(), kind: "discard", filter: { status: "completed" }, reason: "none left" }));
  });

  it("POST /routes, pause and resume", async () => {
    const route = { event_pattern: "ans.placed", handler_name: "ans.ok" };
    expect(await answer("setRoute", client.post(admin, "/routes", { action_id: uuid(), action: "pause", reason: "test", ...route })))
      .toMatchObject({ paused: true, waiting: expect.any(Number) });
    await answer("setRoute", client.post(admin, "/routes", { action_id: uuid(), action: "resume", ...route }));
  });

  it("GET /health: the verdict, with workers, the lag, dead letters and the minutes counted", async () => {
    await bus.heartbeats.beat("dispatcher", 2, true);
    await sql`select feyxa.fold_stats(interval '1 hour', interval '0 seconds')`;
    const health = await answer("health", client.get(admin, "/health"));
    expect(health.workers.recent[0]).toMatchObject({ role: "dispatcher", runtime: "node", in_flight: 2, live: true });
    expect(health.throughput.per_minute).toHaveLength(60);
    expect((await client.get(member, "/health")).status).toBe(403);
  });

  it("GET and POST /alerts, with a notice", async () => {
    const created = await answer("changeAlert", client.post(admin, "/alerts", { op: "create", name: "Any dead", kind: "dead_letters", threshold: 0 }));
    await markDead(sql, (await bus.emit({ event_type: "ans.alerted", aggregate_type: "order", aggregate_id: uuid() })).eventId);
    await sql`select feyxa.evaluate_alerts()`;
    const alerts = await answer("alerts", client.get(admin, "/alerts"));
    expect(alerts.notices.length).toBeGreaterThan(0);
    await answer("changeAlert", client.post(admin, "/alerts", { op: "pause", rule_id: created.rule.id }));
  });
});
