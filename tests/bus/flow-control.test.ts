/**
 * Flow control in the queue (supabase/schemas/bus/flow-control.sql, emit.sql, claims.sql):
 * delivery times and delays, priorities with a bounded head start, order per aggregate
 * (across dispatchers, under concurrent producers, with a dead head held or skipped),
 * and cancelling a pending event.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cancelEvent, configureEventType, discardEvent, retryEvent } from "../../src/bus/index.ts";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { NonRetriableError } from "../../src/bus/errors.ts";
import { asApiRole } from "../support/as-role.ts";
import { countingHandler, eventRow, makeDue, subscribe, testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();
const ran = countingHandler("flow.ran");
/** Per ordering key, the sequence numbers in the order their handler started, and how many ran at once. */
const lines = new Map<string, number[]>();
let running = 0;
let mostAtOnce = 0;
let refuse = new Set<number>();
let fail = new Set<number>();
const inLine = defineHandler("flow.in_line", async (event) => {
  running++;
  mostAtOnce = Math.max(mostAtOnce, running);
  try {
    const seq = event.payload.seq as number;
    const key = event.payload.key as string;
    lines.set(key, [...(lines.get(key) ?? []), seq]);
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (refuse.has(seq)) throw new NonRetriableError(`refused ${seq}`);
    if (fail.has(seq)) throw new Error(`failed ${seq}`);
  } finally {
    running--;
  }
});
const bus = testBus(sql, [ran.handler, inLine]);

beforeAll(async () => {
  await subscribe(sql, "flow.*", "flow.ran");
  await subscribe(sql, "line.*", "flow.in_line");
  await configureEventType(sql, "line.held", { ordered: true });
  await configureEventType(sql, "line.skipped", { ordered: true, onDeadHead: "skip" });
});

const queued = async (id: string) =>
  (await sql<{ held: boolean; due: string }[]>`select held, due_at::text as due from feyxa.event_queue where event_id = ${id}::uuid`)[0];
const drainAll = async () => {
  for (let i = 0; i < 50; i++) if ((await bus.drainOnce(100)).length === 0) return;
};
const claimedIds = async () => (await bus.claimDue(100)).map((e) => e.id);

describe("delivery times", () => {
  it("an event with a delay or a deliver_at is pending and not claimed before its time, then runs", async () => {
    const later = await bus.emit({ event_type: "flow.later", aggregate_type: "test", aggregate_id: uuid(), delay: 3600 });
    const at = new Date(Date.now() + 600);
    const soon = await bus.emit({ event_type: "flow.soon", aggregate_type: "test", aggregate_id: uuid(), deliver_at: at });
    expect(await claimedIds()).toEqual([]);
    const [row] = await sql`select status, deliver_at from feyxa.events_log where id = ${later.eventId}::uuid`;
    expect(row.status).toBe("pending");
    expect(row.deliver_at.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const outcomes = await bus.drainOnce(10);
    expect(outcomes.map((o) => o.eventId)).toEqual([soon.eventId]);
    expect((await eventRow(sql, later.eventId)).status).toBe("pending");
  });

  it("refuses a bad delivery time or both at once, naming the field, and stores nothing", async () => {
    const base = { event_type: "flow.bad", aggregate_type: "test", aggregate_id: uuid() };
    await expect(bus.emit({ ...base, deliver_at: "someday" })).rejects.toMatchObject({ field: "deliver_at" });
    await expect(sql`select feyxa.emit_event('flow.bad', 'test', gen_random_uuid(), null, '{}', null, 'infinity')`).rejects.toMatchObject({ code: "22023", detail: "deliver_at" });
    await expect(bus.emit({ ...base, priority: 1001 })).rejects.toMatchObject({ code: "22023", detail: "priority" });
    await expect(bus.emit({ ...base, delay: 1, deliver_at: new Date() })).rejects.toMatchObject({ field: "delay" });
    await expect(sql`select * from feyxa.emit_events(${sql.json([{ ...base, delay: -1 }])})`).rejects.toMatchObject({ detail: "events[0].delay" });
    await expect(sql`select * from feyxa.emit_events(${sql.json([base, { ...base, aggregate_id: uuid(), deliver_at: "soon" }])})`)
      .rejects.toMatchObject({ detail: "events[1].deliver_at" });
    expect(await sql`select 1 from feyxa.events_log where event_type = 'flow.bad'`).toHaveLength(0);
  });
});

describe("priorities", () => {
  it("a prioritised event goes ahead of a backlog that became due less than its priority before it, and no further", async () => {
    const backlog = await bus.emitMany(Array.from({ length: 5 }, () => ({ event_type: "flow.backlog", aggregate_type: "test", aggregate_id: uuid() })));
    // The backlog became due 30 s ago.
    await sql`update feyxa.event_queue set due_at = now() - interval '30 seconds' where event_id in ${sql(backlog.map((b) => b.eventId))}`;
    const urgent = await bus.emit({ event_type: "flow.urgent", aggregate_type: "test", aggregate_id: uuid(), priority: 60 });
    const mild = await bus.emit({ event_type: "flow.mild", aggregate_type: "test", aggregate_id: uuid(), priority: 10 });
    // (A claim's rows come back in no particular order: its limit shows which went first.)
    const first = (await bus.claimDue(1)).map((e) => e.id);
    expect(first).toEqual([urgent.eventId]); // 60 s ahead: before the 30 s old backlog
    const next = (await bus.claimDue(5)).map((e) => e.id);
    expect(next.sort()).toEqual(backlog.map((b) => b.eventId).sort()); // 10 s ahead is still behind it (ageing)
    const last = (await bus.claimDue(5)).map((e) => e.id);
    expect(last).toEqual([mild.eventId]);
    const order = [...first, ...next, ...last];
    await bus.release(order);
    await drainAll();
  });

  it("a type's priority applies to its events, an emit's own wins, and a retry keeps its head start but not its time", async () => {
    await configureEventType(sql, "flow.vip", { priority: 300 });
    const typed = await bus.emit({ event_type: "flow.vip", aggregate_type: "test", aggregate_id: uuid() });
    const own = await bus.emit({ event_type: "flow.vip", aggregate_type: "test", aggregate_id: uuid(), priority: 5 });
    const rows = await sql`select id, priority from feyxa.events_log where id in (${typed.eventId}, ${own.eventId})`;
    expect(Object.fromEntries(rows.map((r) => [r.id, r.priority]))).toEqual({ [typed.eventId]: 300, [own.eventId]: 5 });
    const [q] = await sql`select due_at, not_before from feyxa.event_queue where event_id = ${typed.eventId}::uuid`;
    expect(q.not_before.getTime() - q.due_at.getTime()).toBe(300_000);
    // A retry due in an hour is not claimed now, whatever its priority.
    await sql`select feyxa.enqueue_events(array[${typed.eventId}::uuid], now() + interval '1 hour')`;
    expect(await claimedIds()).not.toContain(typed.eventId);
    await drainAll();
  });
});

describe("order per aggregate", () => {
  const emitLine = (type: string, key: string, seqs: number[]) =>
    bus.emitMany(seqs.map((seq) => ({ event_type: type, aggregate_type: "line", aggregate_id: key, payload: { key, seq } })));

  it("holds the later events of an aggregate until the one before is done; other aggregates flow", async () => {
    const [a, b] = [uuid(), uuid()];
    const line = await emitLine("line.held", a, [1, 2, 3]);
    const other = await emitLine("line.held", b, [1]);
    expect((await queued(line[1].eventId)).held).toBe(true);
    const first = await claimedIds();
    expect(first.sort()).toEqual([line[0].eventId, other[0].eventId].sort());
    await bus.release(first);
    await drainAll();
    expect(lines.get(a)).toEqual([1, 2, 3]);
    const [{ n }] = await sql`select count(*)::int as n from feyxa.ordering_keys where ordering_key = ${`line:${a}`}`;
    expect(n).toBe(0); // an empty line forgets its key
  });

  it("a failing head holds its line through its retries; a dead one holds it (hold) until discarded", async () => {
    const key = uuid();
    fail = new Set([101]);
    const line = await emitLine("line.held", key, [101, 102]);
    await drainAll();
    expect((await eventRow(sql, line[0].eventId)).status).toBe("failed");
    expect((await queued(line[1].eventId)).held).toBe(true);
    await sql`update feyxa.events_log set retry_count = max_retries where id = ${line[0].eventId}::uuid`;
    await makeDue(sql, line[0].eventId);
    await drainAll();
    expect((await eventRow(sql, line[0].eventId)).status).toBe("dead");
    expect((await queued(line[1].eventId)).held).toBe(true);
    await discardEvent(sql, line[0].eventId, "bad data");
    await drainAll();
    expect(lines.get(key)).toEqual([101, 101, 102]);
    fail = new Set();
  });

  it("a dead head lets its line move on when the type says skip", async () => {
    const key = uuid();
    refuse = new Set([201]);
    const line = await emitLine("line.skipped", key, [201, 202]);
    await drainAll();
    expect((await eventRow(sql, line[0].eventId)).status).toBe("dead");
    expect((await eventRow(sql, line[1].eventId)).status).toBe("completed");
    refuse = new Set();
  });

  it("the operator's retry of a dead head runs it, then its line", async () => {
    const key = uuid();
    refuse = new Set([301]);
    const line = await emitLine("line.held", key, [301, 302]);
    await drainAll();
    refuse = new Set();
    await retryEvent(sql, line[0].eventId);
    await drainAll();
    expect(lines.get(key)).toEqual([301, 301, 302]);
  });

  it("orders concurrent producers by emit, and keeps each line one at a time across three dispatchers", async () => {
    const keys = Array.from({ length: 8 }, uuid);
    const seqs = Array.from({ length: 12 }, (_, i) => 1000 + i);
    // Each key's events from separate transactions, all at once; the order is the order of their ordering_seq.
    await Promise.all(keys.flatMap((key) => seqs.map((seq) =>
      bus.emit({ event_type: "line.held", aggregate_type: "line", aggregate_id: key, payload: { key, seq } }))));
    const buses = [testBus(sql, [ran.handler, inLine]), testBus(sql, [ran.handler, inLine]), testBus(sql, [ran.handler, inLine])];
    mostAtOnce = 0;
    await Promise.all(buses.map(async (b) => {
      for (let i = 0; i < 400; i++) if ((await b.drainOnce(5)).length === 0 && i > 20) break;
    }));
    await drainAll();
    for (const key of keys) {
      const emitted = await sql<{ seq: number }[]>`
        select (payload ->> 'seq')::int as seq from feyxa.events_log where aggregate_id = ${key}::uuid order by ordering_seq`;
      expect(lines.get(key), key).toEqual(emitted.map((r) => r.seq));
    }
    expect(mostAtOnce).toBeGreaterThan(1); // the lines ran side by side
    const [{ open }] = await sql`select count(*)::int as open from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id where e.event_type = 'line.held' and e.status <> 'dead'`;
    expect(open).toBe(0);
  });

  it("a head whose worker died comes back when its lease runs out, still ahead of its line", async () => {
    const key = uuid();
    const line = await emitLine("line.held", key, [501, 502]);
    const crashed = testBus(sql, [ran.handler, inLine], { leaseMs: 1_000 });
    expect((await crashed.claimDue(10)).map((e) => e.id)).toEqual([line[0].eventId]); // and then it dies
    await sql`update feyxa.event_queue set due_at = now() - interval '1 second' where event_id = ${line[0].eventId}::uuid`; // its lease ran out
    await drainAll();
    expect(lines.get(key)).toEqual([501, 502]);
    expect(await eventRow(sql, line[0].eventId)).toMatchObject({ status: "completed", attempt: 2 });
  });

  it("a line's key lives exactly while the line has events: a duplicate emit that opened it forgets it", async () => {
    const key = `dup:${uuid()}`;
    const emit = () => bus.emit({ event_type: "flow.dup", aggregate_type: "test", aggregate_id: uuid(), ordering_key: key, idempotency_key: key });
    const first = await emit();
    await drainAll();
    expect((await eventRow(sql, first.eventId)).status).toBe("completed");
    const lineKeys = async () => (await sql`select 1 from feyxa.ordering_keys where ordering_key = ${key}`).length;
    expect(await lineKeys()).toBe(0); // the line emptied
    expect((await emit()).eventId).toBe(first.eventId); // a duplicate: nothing new in the line
    expect(await lineKeys()).toBe(0);
    const next = await bus.emit({ event_type: "flow.after_dup", aggregate_type: "test", aggregate_id: uuid(), ordering_key: key });
    expect((await queued(next.eventId)).held).toBe(false); // not held behind nothing
    await drainAll();
  });

  it("orders an emit that names its own key, whatever its type", async () => {
    const key = `order:${uuid()}`;
    const first = await bus.emit({ event_type: "flow.first", aggregate_type: "test", aggregate_id: uuid(), ordering_key: key });
    const second = await bus.emit({ event_type: "flow.second", aggregate_type: "test", aggregate_id: uuid(), ordering_key: key });
    expect((await queued(second.eventId)).held).toBe(true);
    expect(await claimedIds()).toEqual([first.eventId]);
    await bus.release([first.eventId]);
    await drainAll();
    expect((await eventRow(sql, second.eventId)).status).toBe("completed");
  });
});

describe("cancel", () => {
  it("cancels a scheduled or held event with a reason, audited, once per action id; a started one is refused", async () => {
    const scheduled = await bus.emit({ event_type: "flow.cancel_me", aggregate_type: "test", aggregate_id: uuid(), delay: 600 });
    const actionId = uuid();
    const result = await cancelEvent(sql, scheduled.eventId, "customer changed their mind", { actionId });
    expect(result).toMatchObject({ kind: "cancel", changed: true, status: "cancelled", previous_status: "pending" });
    expect(await cancelEvent(sql, scheduled.eventId, "customer changed their mind", { actionId })).toMatchObject({ duplicate: true });
    expect(await eventRow(sql, scheduled.eventId)).toMatchObject({ status: "cancelled", error_message: "cancelled: customer changed their mind" });
    expect(await queued(scheduled.eventId)).toBeUndefined();

    const key = uuid();
    const line = await bus.emitMany([1, 2, 3].map((seq) => ({ event_type: "line.held", aggregate_type: "line", aggregate_id: key, payload: { key, seq: 400 + seq } })));
    await cancelEvent(sql, line[1].eventId, "not needed"); // a held one: its line keeps its order
    await drainAll();
    expect(lines.get(key)).toEqual([401, 403]);
    await expect(cancelEvent(sql, line[0].eventId, "too late")).rejects.toMatchObject({ code: "55000" });
  });

  it("is refused to a signed-in user who is not an operator", async () => {
    const { eventId } = await bus.emit({ event_type: "flow.cancel_me", aggregate_type: "test", aggregate_id: uuid(), delay: 600 });
    const stranger = uuid();
    await sql`insert into auth.users (id) values (${stranger})`;
    expect(await asApiRole(sql, "authenticated", stranger, (tx) => cancelEvent(tx, eventId, "mine now"))).toBe("denied:42501");
    expect((await eventRow(sql, eventId)).status).toBe("pending");
  });
});
