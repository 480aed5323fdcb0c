/**
 * event-monitor against the real database: who sees what (RLS, as the caller), the
 * filters and keyset pagination of the list, an event's detail, and the statistics.
 * The actions have their own file (event-monitor-actions.test.ts).
 */
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { createFunctions } from "../../../src/marketplace/functions/index.ts";
import { useDatabase } from "../../support/database.ts";
import { countingHandler, markDead, subscribe, testBus, uuid } from "../../support/bus.ts";
import { JWT_SECRET, monitorClient, monitorGateway, person, type Person, store } from "../../support/monitor.ts";

const { sql } = await useDatabase();
let broken = true;
const ok = countingHandler("mon.ok");
const flaky = countingHandler("mon.flaky", () => (broken ? new Error("flaky is down") : undefined));
const bus = testBus(sql, [ok.handler, flaky.handler]);
const client = monitorClient(monitorGateway(bus));

let storeA: string, storeB: string;
let admin: Person, memberA: Person, stranger: Person;
const ids: Record<string, string> = {};

async function emit(type: string, storeId: string, key?: string) {
  const aggregate = uuid();
  const { eventId } = await bus.emit({ event_type: type, aggregate_type: "order", aggregate_id: aggregate, tenant_id: storeId, payload: { n: 1 }, idempotency_key: key });
  return { eventId, aggregate };
}

beforeAll(async () => {
  await subscribe(sql, "shop.created", "mon.ok");
  await subscribe(sql, "shop.paid", "mon.ok", "mon.flaky");
  storeA = await store(sql, "Store A");
  storeB = await store(sql, "Store B");
  admin = await person(sql, "admin@example.com", { admin: true });
  memberA = await person(sql, "member@example.com", { stores: [storeA] });
  stranger = await person(sql, "stranger@example.com");
  ids.createdA = (await emit("shop.created", storeA, "key-created-a")).eventId;
  const paid = await emit("shop.paid", storeA);
  ids.paidA = paid.eventId;
  ids.paidAggregate = paid.aggregate;
  ids.createdB = (await emit("shop.created", storeB)).eventId;
  ids.shippedB = (await emit("parcel.shipped", storeB)).eventId; // no subscription: completes with no handler
  await bus.drainOnce(50);
  await markDead(sql, ids.paidA, "mon.flaky: flaky is down");
  ids.pendingB = (await emit("shop.created", storeB)).eventId;
});

const body = async (res: Response) => ({ status: res.status, body: await res.json() });
const list = async (who: Person, query = "") => (await body(await client.get(who, `/events${query}`))).body;
const listIds = async (who: Person, query = "") => (await list(who, query)).events.map((e: { id: string }) => e.id);

describe("event-monitor: who may read", () => {
  it("refuses a request without a valid token (401), or when no secret is configured (503)", async () => {
    expect((await client.get(undefined, "/events")).status).toBe(401);
    const forged = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS256" }).setSubject(admin.id)
      .setExpirationTime("1h").sign(new TextEncoder().encode("another-secret-another-secret-123"));
    expect(await body(await client.get({ ...admin, token: forged }, "/events"))).toMatchObject({ status: 401, body: { error: "unauthorized" } });
    const expired = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS256" }).setSubject(admin.id)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(new TextEncoder().encode(JWT_SECRET));
    expect((await body(await client.get({ ...admin, token: expired }, "/events"))).body.message).toMatch(/expired/);
    const unconfigured = createGateway(createFunctions(bus));
    const res = await unconfigured(new Request("http://localhost/functions/v1/event-monitor/events", { headers: { authorization: `Bearer ${admin.token}` } }));
    expect(res.status).toBe(503);
  });

  it("shows an admin every event, a store member only their store's, anyone else nothing", async () => {
    expect(await listIds(admin)).toHaveLength(5);
    expect((await listIds(memberA)).sort()).toEqual([ids.createdA, ids.paidA].sort());
    expect(await listIds(stranger)).toEqual([]);
    // Asking for another store's events does not help.
    expect(await listIds(memberA, `?tenant=${storeB}`)).toEqual([]);
  });

  it("tells the page who is asking, whether they may act, and their stores", async () => {
    expect((await body(await client.get(admin, "/me"))).body).toMatchObject({ user_id: admin.id, is_admin: true, tenants: [{ name: "Store A" }, { name: "Store B" }] });
    expect((await body(await client.get(memberA, "/me"))).body).toMatchObject({ is_admin: false, tenants: [{ id: storeA }] });
  });
});

describe("event-monitor: the list", () => {
  it("lists newest first, with status and attempt", async () => {
    const { events, next_cursor } = await list(admin);
    expect(events[0]).toMatchObject({ id: ids.pendingB, status: "pending", attempt: 0 });
    expect(next_cursor).toBeNull();
  });

  it("filters by exact type, type prefix, status list, store and time range", async () => {
    expect((await listIds(admin, "?type=shop.created")).sort()).toEqual([ids.createdA, ids.createdB, ids.pendingB].sort());
    expect(await listIds(admin, "?type=shop.*")).toHaveLength(4);
    expect(await listIds(admin, "?type=parcel.*")).toEqual([ids.shippedB]);
    expect(await listIds(admin, "?status=dead")).toEqual([ids.paidA]);
    expect(await listIds(admin, "?status=dead,pending")).toEqual([ids.pendingB, ids.paidA]);
    expect(await listIds(admin, `?tenant=${storeA}&type=shop.created`)).toEqual([ids.createdA]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await listIds(admin, `?from=${encodeURIComponent(future)}`)).toEqual([]);
    expect(await listIds(admin, `?to=${encodeURIComponent(future)}`)).toHaveLength(5);
  });

  it("searches by event id, aggregate id or idempotency key", async () => {
    expect(await listIds(admin, `?q=${ids.createdB}`)).toEqual([ids.createdB]);
    expect(await listIds(admin, `?q=${ids.paidAggregate}`)).toEqual([ids.paidA]);
    expect(await listIds(admin, "?q=key-created-a")).toEqual([ids.createdA]);
    expect(await listIds(memberA, `?q=${ids.createdB}`)).toEqual([]);
  });

  async function walkPages(limit: number) {
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: { events: { id: string }[]; next_cursor: string | null } = await list(admin, `?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.events.map((e) => e.id));
      cursor = page.next_cursor;
    }
    return seen;
  }

  it("pages with a keyset cursor: every event once, in order", async () => {
    expect(await walkPages(2)).toEqual(await listIds(admin));
  });

  it("pages rows created within one millisecond apart by their microseconds", async () => {
    // A cursor that went through a JavaScript Date would keep milliseconds only and skip rows.
    const before = await sql<{ id: string; created_at: string }[]>`select id, created_at::text from feyxa.events_log`;
    await sql`
      update feyxa.events_log e set created_at = date_trunc('milliseconds', now()) - (o.rank * interval '1 microsecond')
      from (select id, row_number() over (order by created_at desc, id desc) as rank from feyxa.events_log) o
      where o.id = e.id`;
    try {
      const order = await listIds(admin);
      expect(order).toHaveLength(5);
      for (const limit of [1, 2, 3]) expect(await walkPages(limit)).toEqual(order);
    } finally {
      for (const row of before) await sql`update feyxa.events_log set created_at = ${row.created_at}::text::timestamptz where id = ${row.id}`;
    }
  });

  it("answers 400 naming the field for a bad filter or cursor", async () => {
    expect(await body(await client.get(admin, "/events?status=lost"))).toMatchObject({ status: 400, body: { field: "status.0" } });
    expect(await body(await client.get(admin, "/events?type=Order"))).toMatchObject({ status: 400, body: { field: "type" } });
    expect(await body(await client.get(admin, "/events?cursor=bm9wZQ"))).toMatchObject({ status: 400, body: { field: "cursor" } });
    expect(await body(await client.get(admin, "/events?colour=red"))).toMatchObject({ status: 400 });
    expect((await client.get(admin, "/nowhere")).status).toBe(404);
  });
});

describe("event-monitor: an event in detail", () => {
  it("shows the payload, every attempt's handler runs, routing and timings", async () => {
    const { status, body: detail } = await body(await client.get(admin, `/events/${ids.paidA}`));
    expect(status).toBe(200);
    expect(detail.event).toMatchObject({ id: ids.paidA, payload: { n: 1 }, tenant_name: "Store A", status: "dead" });
    expect(detail.attempts).toEqual([{
      attempt: 1,
      handlers: [
        expect.objectContaining({ handler_name: "mon.flaky", status: "failed", error_message: "flaky is down" }),
        expect.objectContaining({ handler_name: "mon.ok", status: "success" }),
      ],
    }]);
    expect(detail.routed_handlers).toEqual(["mon.flaky", "mon.ok"]);
    expect(detail.owed_handlers).toEqual(["mon.flaky"]);
    expect(detail.route_steps).toEqual({});
    expect(detail.timings.wait_ms).toBeGreaterThanOrEqual(0);
  });

  it("shows the steps of its type: what each routed handler runs after", async () => {
    await sql`update feyxa.event_subscriptions set after_handlers = '{mon.ok}' where event_pattern = 'shop.paid' and handler_name = 'mon.flaky'`;
    try {
      expect((await body(await client.get(admin, `/events/${ids.paidA}`))).body.route_steps).toEqual({ "mon.flaky": ["mon.ok"] });
      expect((await body(await client.get(memberA, `/events/${ids.paidA}`))).body.route_steps).toEqual({ "mon.flaky": ["mon.ok"] });
    } finally {
      await sql`update feyxa.event_subscriptions set after_handlers = '{}' where event_pattern = 'shop.paid' and handler_name = 'mon.flaky'`;
    }
  });

  it("is 404 for an event of another store, as for one that does not exist", async () => {
    expect((await client.get(memberA, `/events/${ids.createdB}`)).status).toBe(404);
    expect((await client.get(admin, `/events/${uuid()}`)).status).toBe(404);
    expect((await client.get(memberA, `/events/${ids.createdA}`)).status).toBe(200);
  });
});

describe("event-monitor: stats", () => {
  it("reports success rate per type, throughput, the retry queue, dead letters and handler percentiles", async () => {
    const { status, body: s } = await body(await client.get(admin, "/stats?window=15m"));
    expect(status).toBe(200);
    expect(s.success_rate).toContainEqual({ event_type: "shop.created", total: 3, completed: 2, failed: 0, dead: 0, in_flight: 1, rate: 1 });
    expect(s.success_rate).toContainEqual(expect.objectContaining({ event_type: "shop.paid", dead: 1, rate: 0 }));
    expect(s.bucket_seconds).toBe(60);
    expect(s.throughput.length).toBeGreaterThanOrEqual(15);
    const totals = s.throughput.reduce((t: number, b: { completed: number; dead: number; in_flight: number }) => t + b.completed + b.dead + b.in_flight, 0);
    expect(totals).toBe(5);
    expect(s.retry_queue).toMatchObject({ failed: 0, pending: 1, dead: 1, next: [] });
    expect(s.dead_letters).toEqual([expect.objectContaining({ event_type: "shop.paid", error: "mon.flaky: flaky is down", count: 1 })]);
    expect(s.handlers).toEqual([
      expect.objectContaining({ handler_name: "mon.flaky", runs: 1, failures: 1 }),
      expect.objectContaining({ handler_name: "mon.ok", runs: 3, failures: 0 }),
    ]);
    expect(s.handlers[1].p95_ms).toBeGreaterThanOrEqual(s.handlers[1].p50_ms);
  });

  it("narrows to the caller's stores and to a type or store filter", async () => {
    const member = (await body(await client.get(memberA, "/stats"))).body;
    expect(member.success_rate.map((t: { event_type: string }) => t.event_type).sort()).toEqual(["shop.created", "shop.paid"]);
    expect(member.retry_queue.pending).toBe(0);
    const typed = (await body(await client.get(admin, `/stats?type=shop.created&tenant=${storeB}`))).body;
    expect(typed.success_rate).toEqual([expect.objectContaining({ event_type: "shop.created", total: 2 })]);
    expect(typed.handlers).toEqual([expect.objectContaining({ handler_name: "mon.ok", runs: 1 })]);
    expect((await client.get(admin, "/stats?window=2y")).status).toBe(400);
  });
});

// Last: it adds an event, which the stats above would count.
describe("event-monitor: an event's deliveries and relatives", () => {
  it("shows each remote handler run's HTTP answer and the aggregate's other events, to those who may see the event", async () => {
    await sql`insert into feyxa.webhook_deliveries (event_id, handler_name, attempt, status_code, response_excerpt, duration_ms)
              values (${ids.paidA}, 'mon.flaky', 1, 503, 'upstream unavailable', 120)`;
    const { eventId: refunded } = await bus.emit({ event_type: "shop.refunded", aggregate_type: "order", aggregate_id: ids.paidAggregate, tenant_id: storeA });
    const { body: detail } = await body(await client.get(memberA, `/events/${ids.paidA}`));
    expect(detail.deliveries).toEqual([expect.objectContaining({ handler_name: "mon.flaky", attempt: 1, status_code: 503, response_excerpt: "upstream unavailable" })]);
    expect(detail.related).toEqual([expect.objectContaining({ id: refunded, event_type: "shop.refunded" })]);
    // Through the Data API's role, a stranger reads no delivery of it.
    const seen = await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: stranger.id, role: "authenticated" })}, true), set_config('role', 'authenticated', true)`;
      return await tx`select * from feyxa.webhook_deliveries`;
    });
    expect(seen).toEqual([]);
  });
});
