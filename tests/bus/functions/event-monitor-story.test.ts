/**
 * The monitor follows one order and says why each event waits (issue 28, items 3 to 5):
 *
 * - GET /story?q= opens an order's story from its number: its own events, its payment's and
 *   its delivery's (other aggregates, linked through the marketplace's story hook), and
 *   every handler run, in time order, with the run that emitted each caused event;
 * - the list and the detail tell held, scheduled, paused, deferred and retrying apart (the
 *   list filters by each), the detail naming the blocker, the paused route with who paused
 *   it, the route's real retry policy;
 * - a paused route's events park: no attempt while it lasts, all due when it is resumed;
 * - a stranger's story is empty, and anon is refused.
 */
import { describe, expect, it } from "vitest";
import { configureEventType, defineHandler } from "../../../src/bus/index.ts";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import type { Handler } from "../../../src/bus/types.ts";
import { markDead, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { checkout, drain, openShop } from "../../support/marketplace.ts";
import { monitorClient, monitorGateway, person } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const admin = await person(sql, "ops@example.com", { admin: true });
const stranger = await person(sql, "stranger@example.com");

const echo = defineHandler("story.echo", async (event, ctx) => {
  await ctx.sql`select feyxa.emit_event('story.echoed', 'test', ${event.aggregateId}::uuid, null, '{}'::jsonb)`;
});
const flaky = defineHandler("wait.flaky", async () => {
  throw new Error("upstream down");
});
const quiet: Handler = defineHandler("wait.quiet", async () => {});
const limited = defineHandler("wait.limited", async () => {}, { rateLimit: "wait.quiet_limited" });
const bus = testBus(sql, [...engineHandlers(), echo, flaky, quiet, limited]);
const client = monitorClient(monitorGateway(bus));
const get = async (path: string, who = admin) => {
  const res = await client.get(who, path);
  expect(res.status, path).toBe(200);
  return await res.json();
};

describe("an order's story", () => {
  it("opens from the order's number: its events, its payment's and delivery's, every run in time order", async () => {
    const shop = await openShop(sql, [{ name: "Tea", price: 1_000, stock: 10 }]);
    const order = await checkout(sql, shop, { Tea: 2 });
    await drain(bus);
    await sql`update payments set status = 'paid', paid_at = now() where order_id = ${order.order_id}::uuid`;
    await drain(bus);
    await sql`update deliveries set status = 'delivered', delivered_at = now() where order_id = ${order.order_id}::uuid`;
    await drain(bus);

    const story = await get(`/story?q=${order.order_number}`);
    const types = story.events.map((e: { event_type: string }) => e.event_type);
    expect(types).toEqual(expect.arrayContaining(["order.created", "payment.paid", "delivery.delivered"]));
    expect(story.events.every((e: { status: string }) => e.status === "completed")).toBe(true);
    const runs = story.runs as { created_at: string; handler_name: string; event_id: string }[];
    expect(runs.length).toBeGreaterThanOrEqual(8);
    expect(runs.map((r) => r.created_at)).toEqual([...runs.map((r) => r.created_at)].sort());
    const created = story.events.find((e: { event_type: string }) => e.event_type === "order.created");
    expect(runs.filter((r) => r.event_id === created.id).map((r) => r.handler_name)).toContain("fintech.create_escrow");
    // The same story from the order's id, and from its first event's id.
    expect((await get(`/story?q=${order.order_id}`)).events.length).toBe(story.events.length);
    expect((await get(`/story?q=${created.id}`)).events.map((e: { id: string }) => e.id)).toContain(created.id);
  });

  it("shows which run emitted what, and a stranger's story of it is empty; anon is refused", async () => {
    await subscribe(sql, "story.start", "story.echo");
    const { eventId: root } = await bus.emit({ event_type: "story.start", aggregate_type: "test", aggregate_id: uuid() });
    await drain(bus);
    const story = await get(`/story?q=${root}`);
    const echoed = story.events.find((e: { event_type: string }) => e.event_type === "story.echoed");
    expect(echoed).toMatchObject({ causation_id: root, causation_handler: "story.echo", correlation_id: root });
    expect(story.roots).toEqual([root]);
    // From the caused event too: the same story.
    expect((await get(`/story?q=${echoed.id}`)).events.map((e: { id: string }) => e.id).sort()).toEqual([root, echoed.id].sort());
    expect((await get(`/story?q=${root}`, stranger)).events).toEqual([]);
    expect((await client.get(undefined, `/story?q=${root}`)).status).toBe(401);
    const bad = await client.get(admin, "/story?q=");
    expect(bad.status).toBe(400);
    expect((await bad.json()).field).toBe("q");
  });
});

describe("why an event waits", () => {
  it("tells held, scheduled, paused, deferred and retrying apart, in the list, its filters and the detail", async () => {
    // held: behind a dead head of its ordering line
    await configureEventType(sql, "wait.ordered", { ordered: true });
    const line = uuid();
    const { eventId: head } = await bus.emit({ event_type: "wait.ordered", aggregate_type: "test", aggregate_id: line });
    const { eventId: held } = await bus.emit({ event_type: "wait.ordered", aggregate_type: "test", aggregate_id: line });
    await markDead(sql, head, "refused for good");
    // scheduled: for an hour from now
    const { eventId: scheduled } = await bus.emit({ event_type: "wait.later", aggregate_type: "test", aggregate_id: uuid(), delay: 3600 });
    // paused: its route paused, with a reason
    await subscribe(sql, "wait.paused", "wait.quiet");
    await client.post(admin, "/routes", { action_id: uuid(), action: "pause", event_pattern: "wait.paused", handler_name: "wait.quiet" });
    const { eventId: paused } = await bus.emit({ event_type: "wait.paused", aggregate_type: "test", aggregate_id: uuid() });
    // deferred: a rate limit with no token left
    await sql`select feyxa.configure_rate_limit('wait.quiet_limited', 0.001, 1)`;
    await subscribe(sql, "wait.limited", "wait.limited");
    await bus.emit({ event_type: "wait.limited", aggregate_type: "test", aggregate_id: uuid() });
    await drain(bus); // the first takes the one token; the next finds none
    const { eventId: deferred } = await bus.emit({ event_type: "wait.limited", aggregate_type: "test", aggregate_id: uuid() });
    // retrying: its route allows 8 attempts
    await subscribe(sql, "wait.flaky", "wait.flaky");
    await sql`select feyxa.set_route_policy('wait.flaky', p_max_attempts => 8)`;
    const { eventId: retrying } = await bus.emit({ event_type: "wait.flaky", aggregate_type: "test", aggregate_id: uuid() });
    await drain(bus);

    const reasons = Object.fromEntries((await get("/events?limit=200")).events.map((e: { id: string; waiting: string | null }) => [e.id, e.waiting]));
    expect([reasons[held], reasons[scheduled], reasons[paused], reasons[deferred], reasons[retrying]])
      .toEqual(["held", "scheduled", "paused", "deferred", "retrying"]);
    for (const [reason, id] of [["held", held], ["scheduled", scheduled], ["paused", paused], ["deferred", deferred], ["retrying", retrying]]) {
      expect((await get(`/events?waiting=${reason}`)).events.map((e: { id: string }) => e.id), reason).toEqual([id]);
    }

    const heldDetail = (await get(`/events/${held}`)).waiting;
    expect(heldDetail).toMatchObject({ reason: "held", blocker: { id: head, status: "dead", error_message: "refused for good" } });
    expect((await get(`/events/${scheduled}`)).waiting).toMatchObject({ reason: "scheduled", until: expect.any(String) });
    expect((await get(`/events/${paused}`)).waiting).toMatchObject({
      reason: "paused", paused_routes: [{ event_pattern: "wait.paused", handler_name: "wait.quiet", paused_by: "ops@example.com" }],
    });
    expect((await get(`/events/${deferred}`)).waiting).toMatchObject({ reason: "deferred", deferred_by: [{ handler_name: "wait.limited" }] });
    expect((await get(`/events/${retrying}`)).waiting).toMatchObject({
      reason: "retrying", retries: [{ handler_name: "wait.flaky", failures: 1, max_attempts: 8, route_policy: true }],
    });
    expect((await get(`/events/${held}`, admin)).event.waiting).toBe("held");
  });

  it("parks a paused route's events: no attempt while it lasts, due at once when it is resumed", async () => {
    await subscribe(sql, "park.me", "wait.quiet");
    await client.post(admin, "/routes", { action_id: uuid(), action: "pause", event_pattern: "park.me", handler_name: "wait.quiet" });
    const { eventId } = await bus.emit({ event_type: "park.me", aggregate_type: "test", aggregate_id: uuid() });
    await drain(bus);
    await drain(bus);
    const attempts = async () => (await sql`select attempt, status from feyxa.events_log where id = ${eventId}::uuid`)[0];
    expect(await attempts()).toEqual({ attempt: 1, status: "pending" });
    const [{ due }] = await sql`select due_at = 'infinity' as due from feyxa.event_queue where event_id = ${eventId}::uuid`;
    expect(due).toBe(true);
    await client.post(admin, "/routes", { action_id: uuid(), action: "resume", event_pattern: "park.me", handler_name: "wait.quiet" });
    await drain(bus);
    expect(await attempts()).toEqual({ attempt: 2, status: "completed" });
  });
});
