/**
 * The alert rules from the monitor (src/bus/functions/monitor/alerts.ts): operators list,
 * create, pause, resume and delete them and read their notices; anon gets 401, a signed-in
 * stranger or a store member sees nothing and changes nothing; bad input is a 400 naming the field.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { markDead, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { monitorClient, monitorGateway, person, type Person, store } from "../../support/monitor.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);
const client = monitorClient(monitorGateway(bus));
let admin: Person, member: Person, stranger: Person;

beforeAll(async () => {
  const storeId = await store(sql, "Alert Store");
  admin = await person(sql, "ops-alerts@example.com", { admin: true });
  member = await person(sql, "staff-alerts@example.com", { stores: [storeId] });
  stranger = await person(sql, "nobody-alerts@example.com");
});

const rules = async () => (await sql`select count(*)::int as n from feyxa.alert_rules`)[0].n as number;
const post = async (who: Person, body: unknown) => {
  const res = await client.post(who, "/alerts", body);
  return { status: res.status, body: await res.json() };
};
const lag = { op: "create", name: "lagging", kind: "lag", threshold: 60, event_type: "order.created", window_minutes: 15, repeat_minutes: 30 };

describe("event-monitor /alerts", () => {
  it("anon 401; a stranger or a store member: nothing listed, nothing created", async () => {
    expect((await client.get(undefined, "/alerts")).status).toBe(401);
    for (const who of [stranger, member]) {
      expect(await (await client.get(who, "/alerts")).json()).toEqual({ rules: [], notices: [] });
      expect((await post(who, lag)).status).toBe(403);
    }
    expect(await rules()).toBe(0);
  });

  it("an operator creates a rule, sees it fire with its notice, pauses, resumes and deletes it", async () => {
    const created = await post(admin, { ...lag, kind: "dead_letters", threshold: 0, event_type: "alert.ui_dead" });
    expect(created).toMatchObject({ status: 200, body: { rule: { name: "lagging", kind: "dead_letters", is_active: true } } });
    const id = created.body.rule.id;
    await markDead(sql, (await bus.emit({ event_type: "alert.ui_dead", aggregate_type: "test", aggregate_id: uuid() })).eventId);
    await sql`select feyxa.evaluate_alerts()`;
    const listed = await (await client.get(admin, "/alerts")).json();
    expect(listed.rules).toMatchObject([{ id, firing: true, value: 1, window_minutes: 15, repeat_minutes: 30 }]);
    expect(listed.notices).toMatchObject([{ rule_id: id, kind: "firing" }]);
    // Others see neither the rule nor its notices, and cannot touch it.
    expect(await (await client.get(member, "/alerts")).json()).toEqual({ rules: [], notices: [] });
    expect((await post(member, { op: "delete", rule_id: id })).status).toBe(404);

    expect((await post(admin, { op: "pause", rule_id: id })).body.rule.is_active).toBe(false);
    expect((await post(admin, { op: "resume", rule_id: id })).body.rule.is_active).toBe(true);
    expect((await post(admin, { op: "delete", rule_id: id })).status).toBe(200);
    expect(await rules()).toBe(0);
    expect((await post(admin, { op: "delete", rule_id: id })).body).toMatchObject({ field: "rule_id" });
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ["an unknown kind", { ...lag, kind: "vibes" }, "kind"],
    ["a negative threshold", { ...lag, threshold: -1 }, "threshold"],
    ["a failure rate over 100 %", { ...lag, kind: "failure_rate", event_type: undefined, handler_name: "a.b", threshold: 101 }, "threshold"],
    ["a route's rule without its handler", { ...lag, kind: "failure_rate", event_type: undefined }, "handler_name"],
    ["a handler on a type's rule", { ...lag, handler_name: "a.b" }, "handler_name"],
    ["a malformed event type", { ...lag, event_type: "Order Created" }, "event_type"],
    ["an unknown field", { ...lag, severity: "high" }, "severity"],
    ["an unknown op", { op: "snooze", rule_id: uuid() }, "op"],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses ${what}: 400 naming ${field}, nothing stored`, async () => {
      const res = await post(admin, body);
      expect(res.status).toBe(400);
      expect(res.body.field).toBe(field);
      expect(await rules()).toBe(0);
    });
  }
});
