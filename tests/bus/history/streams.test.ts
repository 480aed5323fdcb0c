/**
 * Event-sourced history: optimistic concurrency per aggregate (409 over HTTP), payload
 * checksums that find tampering, streams kept out of the purge, the monitor's timeline.
 * Rebuilding a state from a stream, with snapshots: tests/marketplace/history/order-life.test.ts.
 */
import { describe, expect, it } from "vitest";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { appendToStream } from "../../../src/bus/history/stream.ts";
import { useDatabase } from "../../support/database.ts";
import { testBus, uuid } from "../../support/bus.ts";
import { serverFunctions } from "../../support/auth.ts";
import { monitorClient, monitorGateway, person } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);
await sql`update feyxa.event_subscriptions set is_active = false`; // the stream alone is under test here
const order = (aggregateId: string, type: string, payload: Record<string, unknown> = {}) =>
  ({ event_type: type, aggregate_type: "order", aggregate_id: aggregateId, payload });

describe("versioned streams", () => {
  it("of two writers at the same version, one wins and the other gets a conflict", async () => {
    const id = uuid();
    expect(await appendToStream(sql, order(id, "order.created", { total_minor: 1000, currency: "XOF" }), 0)).toMatchObject({ version: 1, inserted: true });
    const results = await Promise.allSettled([
      sql.begin((tx) => appendToStream(tx, order(id, "order.paid"), 1)),
      sql.begin((tx) => appendToStream(tx, order(id, "order.cancelled"), 1)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: "55000", detail: "expected_version" });
    expect(lost.reason.message).toContain("expected version 1");
    const [stream] = await sql`select version from feyxa.aggregate_streams where aggregate_id = ${id}`;
    expect(stream.version).toBe(2);
  });

  it("over HTTP: a stale expected version is a 409; a repeated key returns the same event", async () => {
    const id = uuid();
    const gateway = createGateway(serverFunctions(bus));
    const post = (body: unknown) => gateway(new Request("http://x/functions/v1/process-event", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    }));
    const first = await post({ ...order(id, "order.noted"), expected_version: 0, idempotency_key: `note-${id}` });
    expect(first.status).toBe(201);
    const stale = await post({ ...order(id, "order.noted"), expected_version: 0 });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: "conflict", field: "expected_version" });
    const again = await post({ ...order(id, "order.noted"), expected_version: 0, idempotency_key: `note-${id}` });
    expect(await again.json()).toMatchObject({ event_id: (await first.json()).event_id, duplicate: true });
  });

  it("finds a payload that no longer matches its checksum", async () => {
    const id = uuid();
    const { eventId } = await appendToStream(sql, order(id, "order.created", { total_minor: 5000, currency: "XOF" }), 0);
    expect(await sql`select * from feyxa.verify_stream_checksums('order')`).toEqual([]);
    await sql`update feyxa.events_log set payload = jsonb_set(payload, '{total_minor}', '1') where id = ${eventId}`;
    const [bad] = await sql`select * from feyxa.verify_stream_checksums('order')`;
    expect(bad).toMatchObject({ event_id: eventId, aggregate_id: id, version: 1 });
    expect(bad.expected).not.toBe(bad.actual);
    await sql`update feyxa.events_log set payload = jsonb_set(payload, '{total_minor}', '5000') where id = ${eventId}`;
  });

  it("keeps stream events out of the retention purge", async () => {
    const id = uuid();
    const { eventId } = await appendToStream(sql, order(id, "order.created", { total_minor: 1, currency: "XOF" }), 0);
    await sql`update feyxa.events_log set status = 'completed', processed_at = now() - interval '90 days' where id = ${eventId}`;
    await sql`select feyxa.purge_completed_events(100000)`;
    expect((await sql`select 1 from feyxa.events_log where id = ${eventId}`).length).toBe(1);
  });

  it("the monitor shows an event's aggregate timeline, to whoever may see its events", async () => {
    const id = uuid();
    const shopId = (await sql`insert into stores (name, slug) values ('Timeline shop', ${`tl-${id.slice(0, 8)}`}) returning id`)[0].id;
    const stream = (type: string) => ({ ...order(id, type, type === "order.created" ? { total_minor: 10, currency: "XOF" } : {}), tenant_id: shopId });
    const created = await appendToStream(sql, stream("order.created"), 0);
    await appendToStream(sql, stream("order.paid"), 1);
    await appendToStream(sql, stream("order.delivered"), 2);
    const monitor = monitorClient(monitorGateway(bus));
    const admin = await person(sql, `admin-${id}@example.com`, { admin: true });
    const stranger = await person(sql, `stranger-${id}@example.com`);
    const res = await monitor.get(admin, `/events/${created.eventId}`);
    expect(res.status).toBe(200);
    const detail = await res.json();
    expect(detail.timeline.map((t: { version: number; event_type: string }) => `${t.version}:${t.event_type}`))
      .toEqual(["1:order.created", "2:order.paid", "3:order.delivered"]);
    expect((await monitor.get(stranger, `/events/${created.eventId}`)).status).toBe(404);
  });
});
