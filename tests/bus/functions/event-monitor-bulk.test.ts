/**
 * The monitor's failures grouped by fingerprint, search by id prefix and type prefix, and
 * its bulk actions over a filter: previewed, applied in batches through the single-event
 * transitions, audited per batch and per event, idempotent per action id, admins only.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eventRow, markDead, subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { monitorClient, monitorGateway, person, type Person, store } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);
const client = monitorClient(monitorGateway(bus));
let admin: Person, member: Person, stranger: Person, storeId: string;
const payouts: string[] = [];
const stock: string[] = [];
let failedPayout: string;

beforeAll(async () => {
  await subscribe(sql, "bulk.none", "bulk.nobody");
  storeId = await store(sql, "Bulk Store");
  admin = await person(sql, "ops@example.com", { admin: true });
  member = await person(sql, "staff@example.com", { stores: [storeId] });
  stranger = await person(sql, "who@example.com");
  const emit = async (type: string) =>
    (await bus.emit({ event_type: type, aggregate_type: "payout", aggregate_id: uuid(), tenant_id: storeId })).eventId;
  for (let i = 0; i < 5; i++) {
    const id = await emit("payout.requested");
    await markDead(sql, id, `fintech.pay: NonRetriableError: payout refused: payout ${uuid()} of ${1000 + i * 37} XOF exceeds "balance-${i}"`);
    payouts.push(id);
  }
  for (let i = 0; i < 3; i++) {
    const id = await emit("order.created");
    await markDead(sql, id, `commerce.decrement_stock: out of stock: Scarf: ${i + 2} wanted, ${i} in stock`);
    stock.push(id);
  }
  failedPayout = await emit("payout.requested");
  await sql`update feyxa.events_log set status = 'failed', retry_count = 1, next_retry_at = now() + interval '1 hour',
              error_message = ${`fintech.pay: NonRetriableError: payout refused: payout ${uuid()} of 12 XOF exceeds "x"`}
            where id = ${failedPayout}::uuid`;
  await sql`select feyxa.enqueue_events(array[${failedPayout}::uuid], now() + interval '1 hour')`;
});

const get = async (who: Person, path: string) => {
  const res = await client.get(who, path);
  return { status: res.status, body: await res.json() };
};
const bulk = async (who: Person, body: Record<string, unknown>) => {
  const res = await client.post(who, "/bulk", { action_id: uuid(), ...body });
  return { status: res.status, body: await res.json() };
};

describe("error fingerprints", () => {
  it("strip ids, numbers and quoted values in SQL", async () => {
    const [row] = await sql`select feyxa.error_fingerprint(${`payout ${uuid()} of 1,250.50 XOF for "Ada" (try 3)`}) as f`;
    expect(row.f).toBe("payout <id> of <n> XOF for <value> (try <n>)");
  });

  it("group the failures: five payout refusals are one group, counted by status, with a sample", async () => {
    const { status, body } = await get(admin, "/failures");
    expect(status).toBe(200);
    const payout = body.groups.find((g: { event_types: string[] }) => g.event_types.includes("payout.requested"));
    expect(payout).toMatchObject({
      fingerprint: 'fintech.pay: NonRetriableError: payout refused: payout <id> of <n> XOF exceeds <value>',
      dead: 5, failed: 1, sample_event_id: expect.any(String), first_at: expect.any(String), last_at: expect.any(String),
    });
    expect(body.groups).toHaveLength(2);
    expect((await get(stranger, "/failures")).body.groups).toEqual([]);
  });

  it("filter the list: the events of one fingerprint", async () => {
    const fp = encodeURIComponent("commerce.decrement_stock: out of stock: Scarf: <n> wanted, <n> in stock");
    const { body } = await get(admin, `/events?fp=${fp}`);
    expect(body.events.map((e: { id: string }) => e.id).sort()).toEqual([...stock].sort());
  });
});

describe("search", () => {
  it("finds an event by the first 8 characters of its id or of its aggregate's", async () => {
    const [event] = await sql`select id, aggregate_id from feyxa.events_log where id = ${stock[0]}::uuid`;
    expect((await get(admin, `/events?q=${event.id.slice(0, 8)}`)).body.events.map((e: { id: string }) => e.id)).toContain(stock[0]);
    expect((await get(admin, `/events?q=${event.aggregate_id.slice(0, 8)}`)).body.events.map((e: { id: string }) => e.id)).toEqual([stock[0]]);
  });

  it("matches a type by its start, without a wildcard, and still takes order.*", async () => {
    expect((await get(admin, "/events?type=payout")).body.events).toHaveLength(6);
    expect((await get(admin, "/events?type=order.*")).body.events).toHaveLength(3);
    expect(await get(admin, "/events?type=Payout%25")).toMatchObject({ status: 400, body: { field: "type" } });
  });
});

describe("bulk actions over a filter", () => {
  it("preview how many events each action would touch", async () => {
    expect((await get(admin, "/bulk?kind=redrive&type=payout")).body).toMatchObject({ count: 5, statuses: ["dead"] });
    expect((await get(admin, "/bulk?kind=retry&type=payout")).body).toMatchObject({ count: 6 });
    expect((await get(admin, "/bulk?kind=retry&type=payout&status=completed")).body).toMatchObject({ count: 0 });
    expect((await get(admin, "/bulk?kind=explode")).body).toMatchObject({ field: "kind" });
  });

  it("are refused to a store member and a stranger, and change nothing", async () => {
    for (const who of [member, stranger]) {
      expect(await bulk(who, { kind: "redrive", filter: { type: "payout" } })).toMatchObject({ status: 403, body: { error: "forbidden" } });
    }
    const anon = await monitorClient(monitorGateway(bus)).get(undefined, "/bulk?kind=retry");
    expect(anon.status).toBe(401);
    expect((await eventRow(sql, payouts[0])).status).toBe("dead");
    expect(await sql`select * from feyxa.monitor_actions`).toHaveLength(0);
  });

  it("need a reason to discard, and name the field", async () => {
    expect(await bulk(admin, { kind: "discard", filter: { type: "order" } })).toMatchObject({ status: 400, body: { field: "reason" } });
    expect(await bulk(admin, { kind: "retry", filter: { type: "order", nope: "1" } })).toMatchObject({ status: 400 });
  });

  it("re-drive a fingerprint: every dead event of it, audited once per batch and once per event, idempotent", async () => {
    const fp = "fintech.pay: NonRetriableError: payout refused: payout <id> of <n> XOF exceeds <value>";
    const actionId = uuid();
    const first = await client.post(admin, "/bulk", { action_id: actionId, kind: "redrive", filter: { fp } });
    expect(await first.json()).toMatchObject({ changed: true, moved: 5, skipped: 0, next_cursor: null, duplicate: false, kind: "bulk_redrive" });
    for (const id of payouts) expect((await eventRow(sql, id)).status).toBe("failed");
    expect((await eventRow(sql, failedPayout)).next_retry_at!.getTime()).toBeGreaterThan(Date.now() + 60_000); // not dead: untouched
    const again = await client.post(admin, "/bulk", { action_id: actionId, kind: "redrive", filter: { fp } });
    expect(await again.json()).toMatchObject({ moved: 5, duplicate: true });
    const audit = await sql`select kind, parent_id, actor_email from feyxa.monitor_actions order by kind`;
    expect(audit.filter((a) => a.kind === "bulk_redrive")).toEqual([{ kind: "bulk_redrive", parent_id: null, actor_email: "ops@example.com" }]);
    expect(audit.filter((a) => a.kind === "retry" && a.parent_id === actionId)).toHaveLength(5);
    const trail = (await get(admin, "/actions")).body.actions;
    expect(trail).toEqual([expect.objectContaining({ kind: "bulk_redrive", events: 5 })]);
  });

  it("discard by filter, in batches that follow a cursor", async () => {
    const many: string[] = [];
    for (let i = 0; i < 230; i++) {
      many.push((await bus.emit({ event_type: "bulk.spam", aggregate_type: "x", aggregate_id: uuid(), tenant_id: storeId })).eventId);
    }
    expect((await get(admin, "/bulk?kind=discard&type=bulk.spam")).body.count).toBe(230);
    const first = await bulk(admin, { kind: "discard", filter: { type: "bulk.spam" }, reason: "test flood" });
    expect(first.body).toMatchObject({ moved: 200, next_cursor: expect.any(String) });
    const second = await bulk(admin, { kind: "discard", filter: { type: "bulk.spam" }, reason: "test flood", cursor: first.body.next_cursor });
    expect(second.body).toMatchObject({ moved: 30, next_cursor: null });
    const [{ n }] = await sql`select count(*)::int as n from feyxa.events_log where event_type = 'bulk.spam' and status = 'discarded'`;
    expect(n).toBe(230);
    expect((await get(admin, "/bulk?kind=discard&type=bulk.spam")).body.count).toBe(0);
  }, 30_000);
});
