import { describe, expect, it } from "vitest";
import { Bus } from "../../src/bus/bus.ts";
import { useDatabase } from "../support/database.ts";

const db = await useDatabase();
const { sql } = db;
const bus = new Bus({ sql, handlers: [] });
const uuid = () => crypto.randomUUID();

describe("emit_event", () => {
  it("leaves exactly one event when 50 emits of one key race", async () => {
    const aggregate = uuid();
    const ids = await Promise.all(
      Array.from({ length: 50 }, () =>
        sql.begin(async (tx) => {
          const [row] = await tx`select feyxa.emit_event('test.raced', 'order', ${aggregate}::uuid, null, '{"n":1}'::jsonb, 'race-key') as id`;
          return row.id as string;
        })),
    );
    expect(new Set(ids).size).toBe(1);
    const [{ count }] = await sql`select count(*)::int as count from feyxa.events_log where idempotency_key = 'race-key'`;
    expect(count).toBe(1);
  });

  it("reports a duplicate key as not inserted and returns the original id", async () => {
    const first = await bus.emit({ event_type: "test.dup", aggregate_type: "order", aggregate_id: uuid(), idempotency_key: "dup-1" });
    const second = await bus.emit({ event_type: "test.dup", aggregate_type: "order", aggregate_id: uuid(), idempotency_key: "dup-1" });
    expect(first.inserted).toBe(true);
    expect(second).toEqual({ eventId: first.eventId, inserted: false });
  });

  it("emits nothing when the business transaction rolls back", async () => {
    const aggregate = uuid();
    await expect(
      sql.begin(async (tx) => {
        await tx`select feyxa.emit_event('test.rolled_back', 'order', ${aggregate}::uuid, null, '{}'::jsonb)`;
        throw new Error("the business write failed");
      }),
    ).rejects.toThrow("the business write failed");
    const rows = await sql`select 1 from feyxa.events_log where aggregate_id = ${aggregate}::uuid`;
    expect(rows).toHaveLength(0);
  });

  it("keys once-per-aggregate types by type:aggregate, and everything else freshly", async () => {
    const order = uuid();
    const created1 = await bus.emit({ event_type: "order.created", aggregate_type: "order", aggregate_id: order });
    const created2 = await bus.emit({ event_type: "order.created", aggregate_type: "order", aggregate_id: order });
    expect(created2).toEqual({ eventId: created1.eventId, inserted: false });
    const [{ idempotency_key }] = await sql`select idempotency_key from feyxa.events_log where id = ${created1.eventId}::uuid`;
    expect(idempotency_key).toBe(`order.created:${order}`);

    // Seed 000 would have dropped the second payment failure of the same order.
    const failed1 = await bus.emit({ event_type: "payment.failed", aggregate_type: "payment", aggregate_id: order });
    const failed2 = await bus.emit({ event_type: "payment.failed", aggregate_type: "payment", aggregate_id: order });
    expect(failed1.inserted && failed2.inserted).toBe(true);
    expect(failed1.eventId).not.toBe(failed2.eventId);
  });

  it("rejects bad input with an error naming the field, and stores nothing", async () => {
    const before = await sql`select count(*)::int as n from feyxa.events_log`;
    const cases: [string, () => Promise<unknown>, string][] = [
      ["event_type", () => sql`select feyxa.emit_event('Order Created', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`, "event_type"],
      ["aggregate_type", () => sql`select feyxa.emit_event('order.created', '', ${uuid()}::uuid, null, '{}'::jsonb)`, "aggregate_type"],
      ["aggregate_id", () => sql`select feyxa.emit_event('order.created', 'order', null, null, '{}'::jsonb)`, "aggregate_id"],
      ["payload", () => sql`select feyxa.emit_event('order.created', 'order', ${uuid()}::uuid, null, '[1,2]'::jsonb)`, "payload"],
      ["idempotency_key", () => sql`select feyxa.emit_event('order.created', 'order', ${uuid()}::uuid, null, '{}'::jsonb, '')`, "idempotency_key"],
    ];
    for (const [, run, field] of cases) {
      await expect(run()).rejects.toMatchObject({ code: "22023", detail: field });
    }
    const big = sql.json({ blob: "x".repeat(70_000) });
    await expect(sql`select feyxa.emit_event('test.big', 'order', ${uuid()}::uuid, null, ${big})`).rejects.toMatchObject({ code: "54000", detail: "payload" });
    const after = await sql`select count(*)::int as n from feyxa.events_log`;
    expect(after[0].n).toBe(before[0].n);
  });

  it("wakes listeners with the event id only", async () => {
    const heard: string[] = [];
    const listener = await sql.listen("feyxa_events", (payload) => heard.push(payload));
    const { eventId } = await bus.emit({ event_type: "test.wake", aggregate_type: "order", aggregate_id: uuid(), payload: { big: "y".repeat(9000) } });
    await expect.poll(() => heard).toContain(eventId);
    await listener.unlisten();
  });

  // The wake-up contract (supabase/schemas/bus/wake.sql): one NOTIFY per
  // committing transaction, with its first new event's id; none while another notifying
  // commit holds the wake key (coalesced: that one's wake-up makes the dispatchers claim).
  it("wakes once per transaction, at commit, and coalesces wake-ups under contention", async () => {
    const heard: string[] = [];
    const listener = await sql.listen("feyxa_events", (payload) => heard.push(payload));
    const first = await sql.begin(async (tx) => {
      const [a] = await tx`select feyxa.emit_event('test.wake_tx', 'order', ${uuid()}::uuid, null, '{}'::jsonb) as id`;
      await tx`select feyxa.emit_event('test.wake_tx', 'order', ${uuid()}::uuid, null, '{}'::jsonb)`;
      await tx`select * from feyxa.emit_events(${sql.json([{ event_type: "test.wake_tx", aggregate_type: "order", aggregate_id: uuid() }])})`;
      return a.id as string;
    });
    await expect.poll(() => heard).toContain(first);

    const holder = await sql.reserve(); // stands for a notifying commit in flight
    await holder`select pg_advisory_lock(1717924472, 1)`;
    const { eventId: coalesced } = await bus.emit({ event_type: "test.wake_busy", aggregate_type: "order", aggregate_id: uuid() });
    await holder`select pg_advisory_unlock(1717924472, 1)`;
    holder.release();
    const { eventId: lone } = await bus.emit({ event_type: "test.wake_lone", aggregate_type: "order", aggregate_id: uuid() });
    await expect.poll(() => heard).toContain(lone);
    await listener.unlisten();
    expect(heard).toEqual([first, lone]);
    expect(heard).not.toContain(coalesced);
  });
});

describe("emit_events", () => {
  it("inserts a batch in order, reporting duplicates inside it and against the table", async () => {
    const a = uuid();
    await bus.emit({ event_type: "test.batch", aggregate_type: "order", aggregate_id: a, idempotency_key: "batch-existing" });
    const reports = await bus.emitMany([
      { event_type: "test.batch", aggregate_type: "order", aggregate_id: uuid(), payload: { i: 0 } },
      { event_type: "test.batch", aggregate_type: "order", aggregate_id: a, idempotency_key: "batch-existing" },
      { event_type: "test.batch", aggregate_type: "order", aggregate_id: uuid(), idempotency_key: "batch-twice" },
      { event_type: "test.batch", aggregate_type: "order", aggregate_id: uuid(), idempotency_key: "batch-twice" },
    ]);
    expect(reports.map((r) => r.inserted)).toEqual([true, false, true, false]);
    expect(reports[3].eventId).toBe(reports[2].eventId);
    const [{ n }] = await sql`select count(*)::int as n from feyxa.events_log where event_type = 'test.batch'`;
    expect(n).toBe(3);
  });

  it("rejects the whole batch when one element is bad, naming it", async () => {
    await expect(
      bus.emitMany([
        { event_type: "test.batch_bad", aggregate_type: "order", aggregate_id: uuid() },
        { event_type: "test.batch_bad", aggregate_type: "order", aggregate_id: "not-a-uuid" },
      ]),
    ).rejects.toMatchObject({ code: "22023", detail: "events[1].aggregate_id" });
    const rows = await sql`select 1 from feyxa.events_log where event_type = 'test.batch_bad'`;
    expect(rows).toHaveLength(0);
  });

  it("stores the tenant key, read from tenant_id or from 0.1.0's store_id, and names a bad one", async () => {
    const [t1, t2] = [uuid(), uuid()];
    const [a, b] = await bus.emitMany([
      { event_type: "test.tenant", aggregate_type: "order", aggregate_id: uuid(), tenant_id: t1 },
      { event_type: "test.tenant", aggregate_type: "order", aggregate_id: uuid(), store_id: t2 } as never,
    ]);
    const rows = await sql`select id, tenant_id from feyxa.events_log where id in (${a.eventId}, ${b.eventId})`;
    expect(Object.fromEntries(rows.map((r) => [r.id, r.tenant_id]))).toEqual({ [a.eventId]: t1, [b.eventId]: t2 });
    for (const field of ["tenant_id", "store_id"]) {
      await expect(sql`select * from feyxa.emit_events(${sql.json([{ event_type: "test.tenant_bad", aggregate_type: "order", aggregate_id: uuid(), [field]: "shop-1" }])})`)
        .rejects.toMatchObject({ code: "22023", detail: `events[0].${field}` });
    }
  });
});
