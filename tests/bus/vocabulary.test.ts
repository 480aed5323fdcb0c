/**
 * One vocabulary: every status list of src/bus/vocabulary.ts is exactly the list the
 * database's CHECK constraint allows for its column, read from the migrated database's
 * catalog, so that neither side gains or loses a status without the other.
 */
import { describe, expect, it } from "vitest";
import {
  ALERT_KINDS,
  ALERT_NOTICE_KINDS,
  AUDITED_ACTIONS,
  EVENT_STATUSES,
  FAILING_STATUSES,
  HANDLER_RUN_STATUSES,
  IDLE_RUN_STATUSES,
  IN_FLIGHT_STATUSES,
  OFF_QUEUE_STATUSES,
  SETTLED_STATUSES,
} from "../../src/bus/vocabulary.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();

/** The CHECK constraints of a table that name a column, as Postgres prints them. */
async function checksOn(table: string, column: string): Promise<string[]> {
  const rows = await sql<{ def: string }[]>`
    select pg_get_constraintdef(c.oid) as def from pg_constraint c
    where c.conrelid = ${table}::regclass and c.contype = 'c'
      and exists (select 1 from pg_attribute a where a.attrelid = c.conrelid and a.attnum = any(c.conkey) and a.attname = ${column})
    order by c.conname`;
  return rows.map((r) => r.def);
}

/** The one list of values a column may hold: `CHECK ((status = ANY (ARRAY['pending'::text, …])))`. */
async function allowed(table: string, column: string): Promise<string[]> {
  const checks = await checksOn(table, column);
  const lists = checks.filter((def) => new RegExp(`^CHECK \\(\\(${column} = ANY \\(ARRAY\\[`).test(def));
  expect(lists, `${table}.${column}: one CHECK listing its values, among ${JSON.stringify(checks)}`).toHaveLength(1);
  return [...lists[0].matchAll(/'([^']*)'::text/g)].map((m) => m[1]);
}

const sorted = (list: readonly string[]) => [...list].sort();

describe("the statuses, in TypeScript and in the database", () => {
  it("an event's: feyxa.events_log.status", async () => {
    expect(sorted(await allowed("feyxa.events_log", "status"))).toEqual(sorted(EVENT_STATUSES));
  });

  it("a handler run's: feyxa.event_handlers_log.status", async () => {
    expect(sorted(await allowed("feyxa.event_handlers_log", "status"))).toEqual(sorted(HANDLER_RUN_STATUSES));
  });

  it("a webhook delivery has none of its own: its outcome is the HTTP status_code (null: no answer)", async () => {
    const columns = await sql<{ column_name: string }[]>`
      select column_name from information_schema.columns where table_schema = 'feyxa' and table_name = 'webhook_deliveries'`;
    expect(columns.map((c) => c.column_name)).toContain("status_code");
    expect(columns.map((c) => c.column_name)).not.toContain("status");
  });

  it("an action of the audit trail: feyxa.monitor_actions.kind", async () => {
    expect(sorted(await allowed("feyxa.monitor_actions", "kind"))).toEqual(sorted(AUDITED_ACTIONS));
  });

  it("an alert rule's kind and an alert notice's kind", async () => {
    expect(sorted(await allowed("feyxa.alert_rules", "kind"))).toEqual(sorted(ALERT_KINDS));
    expect(sorted(await allowed("feyxa.alert_notices", "kind"))).toEqual(sorted(ALERT_NOTICE_KINDS));
  });

  it("the named subsets are made of the lists' own words, frozen", () => {
    for (const subset of [IN_FLIGHT_STATUSES, FAILING_STATUSES, OFF_QUEUE_STATUSES, SETTLED_STATUSES]) {
      expect(subset.every((s) => (EVENT_STATUSES as readonly string[]).includes(s))).toBe(true);
    }
    expect(IDLE_RUN_STATUSES.every((s) => (HANDLER_RUN_STATUSES as readonly string[]).includes(s))).toBe(true);
    for (const list of [EVENT_STATUSES, HANDLER_RUN_STATUSES, IN_FLIGHT_STATUSES, FAILING_STATUSES, OFF_QUEUE_STATUSES, SETTLED_STATUSES, IDLE_RUN_STATUSES]) {
      expect(Object.isFrozen(list)).toBe(true);
    }
  });
});
