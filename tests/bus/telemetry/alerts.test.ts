import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { parseAllowList } from "../../../src/bus/outbound.ts";
import { remoteDelivery } from "../../../src/bus/webhooks/remote-handler.ts";
import { logDelivery, logRuns, markDead, testBus, uuid } from "../../support/bus.ts";
import { startReceiver } from "../../support/receiver.ts";
import { useDatabase } from "../../support/database.ts";
import { drain } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);

async function rule(kind: string, threshold: number, o: { event_type?: string; handler_name?: string; tenant_id?: string; repeat?: string } = {}) {
  const [row] = await sql<{ id: string }[]>`
    insert into feyxa.alert_rules (name, kind, threshold, event_type, handler_name, tenant_id, repeat_interval)
    values (${`${kind} rule`}, ${kind}, ${threshold}, ${o.event_type ?? null}, ${o.handler_name ?? null}, ${o.tenant_id ?? null}::uuid,
            ${o.repeat ?? "1 hour"}::interval)
    returning id`;
  return row.id;
}
/** Evaluates the rules, returning the notices it wrote for this rule. */
async function evaluate(ruleId: string): Promise<string[]> {
  const [{ last }] = await sql<{ last: string }[]>`select coalesce(max(id), 0)::text as last from feyxa.alert_notices`;
  await sql`select feyxa.evaluate_alerts()`;
  const rows = await sql<{ kind: string }[]>`select kind from feyxa.alert_notices where rule_id = ${ruleId}::uuid and id > ${last}::bigint order by id`;
  return rows.map((r) => r.kind);
}
const emitFor = async (type: string, tenant: string | null = null) =>
  (await bus.emit({ event_type: type, aggregate_type: "test", aggregate_id: uuid(), tenant_id: tenant })).eventId;

describe("alert rules, evaluated by the scheduler's evaluate_alerts", () => {
  it("dead letters of a type over N in the window: fires once, stays quiet while it lasts, resolves once", async () => {
    const id = await rule("dead_letters", 1, { event_type: "alerted.dead" });
    await markDead(sql, await emitFor("alerted.dead"));
    expect(await evaluate(id)).toEqual([]); // 1 is not over 1
    await markDead(sql, await emitFor("alerted.dead"));
    await markDead(sql, await emitFor("alerted.other")); // another type does not count
    expect(await evaluate(id)).toEqual(["firing"]);
    expect(await evaluate(id)).toEqual([]);
    expect(await evaluate(id)).toEqual([]);
    const [notice] = await sql`select message, value from feyxa.alert_notices where rule_id = ${id}::uuid`;
    expect(notice).toMatchObject({ value: 2, message: expect.stringMatching(/dead_letters rule: firing \(dead_letters 2/) });
    // The window moves on past them.
    await sql`update feyxa.events_log set processed_at = now() - interval '1 hour' where event_type = 'alerted.dead'`;
    expect(await evaluate(id)).toEqual(["resolved"]);
    expect(await evaluate(id)).toEqual([]);
  });

  it("a rule still firing after its repeat interval notifies again, once per interval", async () => {
    const id = await rule("dead_letters", 0, { event_type: "alerted.repeat", repeat: "300 milliseconds" });
    await markDead(sql, await emitFor("alerted.repeat"));
    expect(await evaluate(id)).toEqual(["firing"]);
    expect(await evaluate(id)).toEqual([]);
    await new Promise((r) => setTimeout(r, 350));
    expect(await evaluate(id)).toEqual(["repeat"]);
    expect(await evaluate(id)).toEqual([]);
  });

  it("per tenant: a tenant's rule counts that tenant's events only", async () => {
    const [a, b] = [uuid(), uuid()];
    const id = await rule("dead_letters", 0, { event_type: "alerted.tenant", tenant_id: a });
    await markDead(sql, await emitFor("alerted.tenant", b));
    expect(await evaluate(id)).toEqual([]);
    await markDead(sql, await emitFor("alerted.tenant", a));
    expect(await evaluate(id)).toEqual(["firing"]);
    expect((await sql`select tenant_id from feyxa.alert_notices where rule_id = ${id}::uuid`)[0].tenant_id).toBe(a);
  });

  it("lag over T seconds: fires while the oldest due event waits longer, resolves once it is taken", async () => {
    const id = await rule("lag", 60, { event_type: "alerted.lag" });
    const event = await emitFor("alerted.lag");
    expect(await evaluate(id)).toEqual([]);
    await sql`update feyxa.event_queue set due_at = now() - interval '2 minutes' where event_id = ${event}::uuid`;
    expect(await evaluate(id)).toEqual(["firing"]);
    await drain(bus);
    expect(await evaluate(id)).toEqual(["resolved"]);
  });

  it("a route's failure rate over P %: fires, and resolves when successes bring it under", async () => {
    const id = await rule("failure_rate", 50, { handler_name: "alerted.route" });
    const runs = (status: string, n: number) => logRuns(sql, "alerted.route", status, n);
    expect(await evaluate(id)).toEqual([]); // nothing ran: nothing to measure
    await runs("failed", 3);
    await runs("success", 1);
    expect(await evaluate(id)).toEqual(["firing"]);
    await runs("success", 10);
    expect(await evaluate(id)).toEqual(["resolved"]);
  });

  it("an endpoint failing for D hours since its last success: fires, deactivates its route with a notice of its own, stays firing while off, resolves on a success", async () => {
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
              values ('alerted.hooked', 'ops.flaky', 'url', 'https://hooks.example.com/flaky')`;
    const id = await rule("endpoint_failing", 1, { handler_name: "ops.flaky" });
    const delivery = (status: number | null, ago: string) => logDelivery(sql, "ops.flaky", status, ago);
    await delivery(200, "3 hours");
    await delivery(503, "50 minutes");
    expect(await evaluate(id)).toEqual([]); // failing for 50 minutes: not yet an hour
    await delivery(null, "110 minutes");
    expect(await evaluate(id)).toEqual(["firing", "disabled"]);
    const [route] = await sql`select is_active from feyxa.event_subscriptions where handler_name = 'ops.flaky'`;
    expect(route.is_active).toBe(false);
    expect(await evaluate(id)).toEqual([]);
    // Days later, the route still off and nothing delivered since: its failures are old, not over.
    await sql`update feyxa.webhook_deliveries set created_at = created_at - interval '30 days' where handler_name = 'ops.flaky'`;
    expect(await evaluate(id)).toEqual([]);
    const [state] = await sql`select firing from feyxa.alert_states where rule_id = ${id}::uuid`;
    expect(state.firing).toBe(true);
    await sql`update feyxa.event_subscriptions set is_active = true where handler_name = 'ops.flaky'`; // the operator, once it answers
    await delivery(200, "0 seconds");
    expect(await evaluate(id)).toEqual(["resolved"]);
  });

  it("refuses a rule that does not fit its kind", async () => {
    await expect(rule("failure_rate", 50)).rejects.toThrow(/check/);
    await expect(rule("dead_letters", 1, { handler_name: "x.y" })).rejects.toThrow(/check/);
    await expect(rule("failure_rate", 150, { handler_name: "x.y" })).rejects.toThrow(/check/);
  });

  it("each notice is an alert.<kind> event: a remote subscription delivers it as a signed Standard Webhook (operational webhooks)", async () => {
    await sql`update feyxa.event_bus_settings set outbound_allow = '{127.0.0.1}'`;
    const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
    await sql`select feyxa.add_webhook_secret('ops-pager', ${secret})`;
    const receiver = await startReceiver();
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target, secret_name)
              values ('alert.*', 'ops.pager', 'url', ${`${receiver.base}/alerts`}, 'ops-pager')`;
    const id = await rule("dead_letters", 0, { event_type: "alerted.paged" });
    const pager = testBus(sql, [remoteDelivery({ timeoutMs: 2_000, outbound: { allow: parseAllowList("127.0.0.1") } })]);
    await markDead(sql, await emitFor("alerted.paged"));
    expect(await evaluate(id)).toEqual(["firing"]);
    await drain(pager);
    await sql`update feyxa.events_log set processed_at = now() - interval '1 hour' where event_type = 'alerted.paged'`;
    expect(await evaluate(id)).toEqual(["resolved"]);
    await drain(pager);
    const received = receiver.received.map((r) => new Webhook(secret).verify(r.body, Object.fromEntries(
      Object.entries(r.headers).map(([k, v]) => [k, String(v)]))) as { type: string; data: { payload: Record<string, unknown> } });
    const ours = received.filter((r) => r.data.payload.rule_id === id); // the other tests' rules notify too
    expect(ours.map((r) => r.type)).toEqual(["alert.firing", "alert.resolved"]);
    expect(ours[0].data.payload).toMatchObject({ rule_id: id, kind: "dead_letters", notice: "firing", value: 1, threshold: 0 });
  });
});
