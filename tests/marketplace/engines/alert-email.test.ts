/**
 * The email channel of the bus's alerts (issue 16): operations.send_alert_email mails each
 * alert.* notice through the outbox, to the store's owners for a store's rule and to the
 * marketplace's admins for a bus-wide one. A rule that fires sends one email per recipient,
 * a long incident no more until its repeat interval, its resolution one.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../../src/marketplace/engines/index.ts";
import type { BusEvent } from "../../../src/bus/types.ts";
import { markDead, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { drain, openShop } from "../../support/marketplace.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, engineHandlers());

async function user(name: string): Promise<{ id: string; email: string }> {
  const email = `${name}-${uuid().slice(0, 6)}@alerts.test`;
  const [row] = await sql<{ id: string }[]>`insert into auth.users (id, email) values (gen_random_uuid(), ${email}) returning id`;
  return { id: row.id, email };
}
async function rule(name: string, o: { tenant?: string; repeat?: string } = {}) {
  const [row] = await sql<{ id: string }[]>`
    insert into feyxa.alert_rules (name, kind, threshold, event_type, tenant_id, repeat_interval)
    values (${name}, 'dead_letters', 0, ${`mailed.${name.replace(/\W/g, "_")}`}, ${o.tenant ?? null}::uuid, ${o.repeat ?? "1 hour"}::interval)
    returning id`;
  return row.id;
}
/** One dead event of the rule's type, so that a rule over 0 fires. */
const deadLetter = async (name: string, tenant: string | null = null) => {
  const { eventId } = await bus.emit({ event_type: `mailed.${name.replace(/\W/g, "_")}`, aggregate_type: "test", aggregate_id: uuid(), tenant_id: tenant });
  await markDead(sql, eventId);
};
/** Evaluates the rules and runs the notices' handlers. */
const evaluateAndDeliver = async () => {
  await sql`select feyxa.evaluate_alerts()`;
  await drain(bus);
};
/** The outbox's alert mail about one rule: recipient and subject, oldest first. */
const mailAbout = (name: string) => sql<{ to_email: string; subject: string; html: string; store_id: string | null; status: string }[]>`
  select to_email, subject, html, store_id, status from email_outbox where subject like ${`[Feyxa alert] ${name} %`} order by created_at, to_email`;
/** Lets a rule's dead letters fall out of its window: the incident is over. */
const endIncident = (name: string) =>
  sql`update feyxa.events_log set processed_at = now() - interval '1 hour' where event_type = ${`mailed.${name.replace(/\W/g, "_")}`}`;

describe("alert notices by email (operations.send_alert_email)", () => {
  it("a store's rule mails its owners: one email on firing, none while it lasts, one per repeat interval, one on resolution", async () => {
    const shop = await openShop(sql, []);
    const [owner, staff] = [await user("owner"), await user("staff")];
    await sql`insert into store_members (store_id, user_id, role) values (${shop.storeId}, ${owner.id}, 'owner'), (${shop.storeId}, ${staff.id}, 'staff')`;
    await rule("store orders dying", { tenant: shop.storeId, repeat: "2 seconds" });
    await deadLetter("store orders dying", shop.storeId);

    await evaluateAndDeliver();
    let mail = await mailAbout("store orders dying");
    expect(mail.map((m) => [m.to_email, m.subject])).toEqual([[owner.email, "[Feyxa alert] store orders dying is firing"]]);
    expect(mail[0]).toMatchObject({ store_id: shop.storeId, status: "stored" }); // no provider configured: the outbox keeps it
    expect(mail[0].html).toContain("Value: <strong>1</strong>, threshold: 0");

    // A long incident: evaluated every minute, it does not mail again within its repeat interval.
    for (let i = 0; i < 3; i++) await evaluateAndDeliver();
    expect(await mailAbout("store orders dying")).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 2_100));
    await evaluateAndDeliver();
    await evaluateAndDeliver();
    mail = await mailAbout("store orders dying");
    expect(mail.map((m) => m.subject).slice(1)).toEqual(["[Feyxa alert] store orders dying is still firing"]);

    await endIncident("store orders dying");
    await evaluateAndDeliver();
    await evaluateAndDeliver();
    mail = await mailAbout("store orders dying");
    expect(mail.map((m) => m.subject)).toEqual([
      "[Feyxa alert] store orders dying is firing",
      "[Feyxa alert] store orders dying is still firing",
      "[Feyxa alert] store orders dying is resolved",
    ]);
    expect(new Set(mail.map((m) => m.to_email))).toEqual(new Set([owner.email])); // staff are not told
  });

  it("a bus-wide rule, or a store with no owner, mails the marketplace's admins, each once", async () => {
    const [a, b] = [await user("admin-a"), await user("admin-b")];
    await sql`insert into marketplace_admins (user_id) values (${a.id}), (${b.id})`;
    await rule("bus dying");
    await deadLetter("bus dying");
    const orphan = await openShop(sql, []);
    await rule("orphan dying", { tenant: orphan.storeId });
    await deadLetter("orphan dying", orphan.storeId);
    await evaluateAndDeliver();
    await evaluateAndDeliver();

    const bus = await mailAbout("bus dying");
    expect(bus.map((m) => m.to_email).sort()).toEqual([a.email, b.email].sort());
    expect(bus.every((m) => m.store_id === null && m.html.includes("on the whole bus is firing"))).toBe(true);
    expect((await mailAbout("orphan dying")).map((m) => m.to_email).sort()).toEqual([a.email, b.email].sort());
    await sql`delete from marketplace_admins where user_id in (${a.id}, ${b.id})`;
  });

  it("a retried run mails nobody twice (each recipient's outbox row is keyed by the run and the address)", async () => {
    const shop = await openShop(sql, []);
    const owner = await user("retried-owner");
    await sql`insert into store_members (store_id, user_id, role) values (${shop.storeId}, ${owner.id}, 'owner')`;
    const handler = engineHandlers().find((h) => h.name === "operations.send_alert_email")!;
    const ruleId = uuid();
    const event: BusEvent = {
      id: uuid(), type: "alert.resolved", aggregateType: "alert_rule", aggregateId: ruleId, tenantId: shop.storeId,
      payload: { rule_id: ruleId, name: "retried <rule>", kind: "lag", notice: "resolved", value: null, threshold: 60,
                 event_type: null, handler_name: null, notice_id: 7 },
    } as unknown as BusEvent;
    const ctx = { sql, handlerName: handler.name, idempotencyKey: `${event.id}:${handler.name}`, signal: new AbortController().signal };
    await handler.run(event, ctx);
    await handler.run(event, ctx);
    const mail = await mailAbout("retried <rule>");
    expect(mail.map((m) => m.to_email)).toEqual([owner.email]);
    expect(mail[0].html).toContain("retried &#60;rule&#62;"); // the rule's name is escaped
  });

  it("refuses a notice whose payload is not an alert's, without retrying", async () => {
    const handler = engineHandlers().find((h) => h.name === "operations.send_alert_email")!;
    const event = { id: uuid(), type: "alert.firing", aggregateType: "alert_rule", aggregateId: uuid(), tenantId: null,
                    payload: { rule_id: "nope" } } as unknown as BusEvent;
    await expect(handler.run(event, { sql, handlerName: handler.name, idempotencyKey: "x", signal: new AbortController().signal }))
      .rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringMatching(/payload\.rule_id/) });
  });
});
