/**
 * Who may read and write what, enforced by Postgres: each real role with real claims
 * (anon, a customer, a member of store A, a member of store B, an admin, the service
 * role) against each table and function, every cell asserted.
 */
import { describe, expect, it } from "vitest";
import type { Sql } from "../../src/bus/types.ts";
import { useDatabase } from "../support/database.ts";
import { uuid } from "../support/bus.ts";
import { asApiRole } from "../support/as-role.ts";
import { openShop } from "../support/marketplace.ts";

const { sql } = await useDatabase();

const users = { customer: uuid(), memberA: uuid(), memberB: uuid(), admin: uuid() };
for (const [name, id] of Object.entries(users)) await sql`insert into auth.users (id, email) values (${id}, ${`${name}@example.com`})`;
const shopA = await openShop(sql, [{ name: "A-thing", price: 1000, stock: 10 }]);
const shopB = await openShop(sql, [{ name: "B-thing", price: 1000, stock: 10 }]);
await sql`insert into store_members (store_id, user_id, role) values (${shopA.storeId}, ${users.memberA}, 'owner'), (${shopB.storeId}, ${users.memberB}, 'owner')`;
await sql`insert into marketplace_admins (user_id) values (${users.admin})`;
const [orderA] = await sql`select * from checkout(${shopA.storeId}::uuid, 'customer@example.com',
  ${sql.json([{ product_id: shopA.products["A-thing"], quantity: 1 }])}, 'card', '{}'::jsonb, ${users.customer}::uuid)`;
await sql`insert into payouts (store_id, amount_minor, currency) values (${shopA.storeId}, 100, 'XOF')`;
await sql`insert into feyxa.event_handlers_log (event_id, handler_name, attempt, status) values (${orderA.event_id}, 'x.y', 1, 'success')`;
await sql`insert into store_ledger (store_id, currency, amount_minor, kind, ref_id) values (${shopA.storeId}, 'XOF', 1000, 'escrow_release', gen_random_uuid())`;
// A rule of store A's, its state and a notice; and a marketplace-wide rule, which only operators read.
const [ruleA] = await sql`insert into feyxa.alert_rules (name, kind, threshold, tenant_id) values ('A dead letters', 'dead_letters', 1, ${shopA.storeId}) returning id`;
await sql`insert into feyxa.alert_rules (name, kind, threshold) values ('all dead letters', 'dead_letters', 1)`;
await sql`insert into feyxa.alert_states (rule_id) values (${ruleA.id})`;
await sql`insert into feyxa.alert_notices (rule_id, tenant_id, kind, message) values (${ruleA.id}, ${shopA.storeId}, 'firing', 'A: 1 dead letter')`;

type Actor = "anon" | "customer" | "memberA" | "memberB" | "admin" | "service";
const ACTORS: Actor[] = ["anon", "customer", "memberA", "memberB", "admin", "service"];

/** Runs `query` as the actor, the way PostgREST does (role + request.jwt.claims), and rolls back. */
async function as(actor: Actor, query: (tx: Sql) => Promise<unknown>): Promise<unknown> {
  const role = actor === "anon" ? "anon" : actor === "service" ? "service_role" : "authenticated";
  return await asApiRole(sql, role, users[actor as keyof typeof users], query);
}

/** How many of store A's rows the actor sees in each table; "denied" when it may not read the table at all. */
const READS: Record<string, Record<Actor, number | "denied">> = {
  "feyxa.events_log":          { anon: "denied", customer: 0, memberA: 2, memberB: 0, admin: 2, service: 2 }, // order.created, payout.requested
  "feyxa.event_handlers_log":  { anon: "denied", customer: 0, memberA: 1, memberB: 0, admin: 1, service: 1 },
  "feyxa.event_queue":         { anon: "denied", customer: 0, memberA: 2, memberB: 0, admin: 2, service: 2 }, // both still open
  orders:              { anon: "denied", customer: 1, memberA: 1, memberB: 0, admin: 1, service: 1 },
  payouts:             { anon: "denied", customer: 0, memberA: 1, memberB: 0, admin: 1, service: 1 },
  escrows:             { anon: "denied", customer: 0, memberA: 0, memberB: 0, admin: 0, service: 0 }, // none yet: nothing processed
  products:            { anon: 1, customer: 1, memberA: 1, memberB: 1, admin: 1, service: 1 },
  store_ledger:        { anon: "denied", customer: 0, memberA: 1, memberB: 0, admin: 1, service: 1 },
  store_balances:      { anon: "denied", customer: 0, memberA: 1, memberB: 0, admin: 1, service: 1 }, // a security-invoker view: store_ledger's RLS
  "feyxa.alert_rules":   { anon: "denied", customer: 0, memberA: 1, memberB: 0, admin: 1, service: 1 },
  "feyxa.alert_states":  { anon: "denied", customer: 0, memberA: 1, memberB: 0, admin: 1, service: 1 },
  "feyxa.alert_notices": { anon: "denied", customer: 0, memberA: 1, memberB: 0, admin: 1, service: 1 },
};
const eventStore = "(select tenant_id from feyxa.events_log e where e.id = event_id)";
const storeColumn: Record<string, string> = {
  "feyxa.events_log": "tenant_id", "feyxa.event_handlers_log": eventStore, "feyxa.event_queue": eventStore,
  "feyxa.alert_rules": "tenant_id", "feyxa.alert_notices": "tenant_id",
  "feyxa.alert_states": "(select r.tenant_id from feyxa.alert_rules r where r.id = rule_id)",
};

describe("RLS: who reads what", () => {
  for (const [table, expected] of Object.entries(READS)) {
    for (const actor of ACTORS) {
      it(`${table} as ${actor}: ${expected[actor]}`, async () => {
        const column = storeColumn[table] ?? "store_id";
        const got = await as(actor, async (tx) =>
          (await tx.unsafe(`select count(*)::int as n from ${table} where ${column} = $1`, [shopA.storeId]))[0].n);
        expect(got).toBe(expected[actor] === "denied" ? "denied:42501" : expected[actor]);
      });
    }
  }
});

describe("writes: bus tables only through the functions or the service role", () => {
  const writes: [string, (tx: Sql) => Promise<unknown>, Actor[]][] = [
    ["insert into events_log", (tx) => tx`insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key) values ('x.y', 'x', gen_random_uuid(), 'forged')`, ["service"]],
    ["update events_log", (tx) => tx`update feyxa.events_log set status = 'completed' where id = ${orderA.event_id}`, ["service"]],
    ["delete event_handlers_log", (tx) => tx`delete from feyxa.event_handlers_log`, ["service"]],
    ["update event_queue", (tx) => tx`update feyxa.event_queue set due_at = 'infinity'`, ["service"]],
    ["enqueue_events", (tx) => tx`select feyxa.enqueue_events(array[${orderA.event_id}]::uuid[])`, ["service"]],
    ["update orders", (tx) => tx`update orders set total_minor = 1 where id = ${orderA.order_id}`, ["service"]],
    ["insert into payouts", (tx) => tx`insert into payouts (store_id, amount_minor, currency) values (${shopA.storeId}, 5, 'XOF')`, ["service"]],
    ["emit_event", (tx) => tx`select feyxa.emit_event('payout.requested', 'payout', gen_random_uuid(), ${shopA.storeId}::uuid, '{}'::jsonb)`, ["service"]],
    ["claim_events", (tx) => tx`select * from feyxa.claim_events('w', 1)`, ["service"]],
    ["process_payout", (tx) => tx`select * from process_payout((select id from payouts limit 1))`, ["service"]],
    // Buyers place orders through the checkout HTTP function, which takes the customer from
    // the verified token; checkout() itself trusts p_customer_id, so no API role but the server calls it.
    ["insert into alert_rules", (tx) => tx`insert into feyxa.alert_rules (name, kind, threshold, tenant_id) values ('mine', 'dead_letters', 1, ${shopA.storeId})`, ["admin", "service"]],
    ["checkout", (tx) => tx`select * from checkout(${shopB.storeId}::uuid, 'x@example.com', ${tx.json([{ product_id: shopB.products["B-thing"], quantity: 1 }])}, 'card', '{}'::jsonb, ${users.customer}::uuid)`,
      ["service"]],
  ];
  for (const [what, write, allowed] of writes) {
    for (const actor of ACTORS) {
      const may = allowed.includes(actor);
      it(`${what} as ${actor}: ${may ? "allowed" : "denied"}`, async () => {
        const got = await as(actor, write);
        if (may) expect(String(got)).not.toMatch(/^denied/);
        else expect(got).toBe("denied:42501");
      });
    }
  }
});

describe("alert rules: a store's members read the store's, only operators change them", () => {
  for (const actor of ["memberA", "memberB", "customer"] as const) {
    it(`${actor} neither pauses nor deletes store A's rule`, async () => {
      const changed = await as(actor, async (tx) => {
        const paused = await tx`update feyxa.alert_rules set is_active = false where id = ${ruleA.id} returning id`;
        const deleted = await tx`delete from feyxa.alert_rules where id = ${ruleA.id} returning id`;
        return paused.length + deleted.length;
      });
      expect(changed).toBe(0);
    });
  }
  it("an operator pauses it", async () => {
    expect(await as("admin", async (tx) => (await tx`update feyxa.alert_rules set is_active = false where id = ${ruleA.id} returning id`).length)).toBe(1);
  });
});
