/**
 * The state machine is closed: the only SQL functions that write events_log or
 * event_queue are the bus's own, in its schema `feyxa` (emit, claim, complete, the
 * operator transitions, the purge): a function of the same name in another schema is not
 * one of them. A new function that moves an event's status by hand, or an old one's body
 * that starts doing so, fails here: call a transition instead, or, if it is one, add it
 * to the set below and to docs/design.md's lifecycle.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();

/** The bus's state-machine functions, by what they do to an event. */
const STATE_MACHINE = {
  emit: ["emit_event", "emit_event_report", "emit_events"],
  claim: ["lease_events", "renew_leases", "release_events", "reap_expired_leases", "enqueue_events", "tidy_event_queue"],
  complete: ["complete_attempts"],
  operate: ["retry_event", "redrive_dead", "replay_event", "discard_event", "cancel_event", "close_event"],
  flow: ["release_lines", "dequeue_events", "skip_dead_heads", "configure_tenant_fairness", "unpark_events"],
  retain: ["purge_completed_events"],
};
const BUS_SCHEMA = "feyxa";
const ALLOWED = new Set(Object.values(STATE_MACHINE).flat().map((name) => `${BUS_SCHEMA}.${name}`));

/** A statement that writes one of the two tables, schema-qualified or not. */
const WRITES = String.raw`(update|insert\s+into|delete\s+from)\s+(only\s+)?("?\w+"?\.)?"?(events_log|event_queue)"?\M`;

/** Every SQL or PL/pgSQL function whose body writes either table, as schema.name. */
async function writersOf(db: typeof sql): Promise<string[]> {
  const rows = await db<{ name: string }[]>`
    select n.nspname || '.' || p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname not in ('pg_catalog', 'information_schema')
      and p.prolang in (select oid from pg_language where lanname in ('sql', 'plpgsql'))
      and p.prosrc ~* ${WRITES}
    order by 1`;
  return rows.map((r) => r.name);
}

describe("the state machine", () => {
  it("no SQL function outside the bus's state-machine set writes events_log or event_queue", async () => {
    const writers = await writersOf(sql);
    expect(writers).toEqual(expect.arrayContaining(["feyxa.complete_attempts", "feyxa.retry_event", "feyxa.close_event"]));
    expect(writers.filter((f) => !ALLOWED.has(f))).toEqual([]);
  });

  it("would catch one: a function that sets a status by hand is listed", async () => {
    const rollback = new Error("rollback");
    await expect(sql.begin(async (tx) => {
      await tx.unsafe(`create function public.rogue_retry(p uuid) returns void language sql
                       as $$ update feyxa.events_log set status = 'pending' where id = p $$`);
      expect(await writersOf(tx as unknown as typeof sql)).toContain("public.rogue_retry");
      throw rollback;
    })).rejects.toBe(rollback);
  });

  it("every function of the set exists and has its comment (a renamed one must be renamed here too)", async () => {
    const rows = await sql<{ name: string; comment: string | null }[]>`
      select p.pronamespace::regnamespace || '.' || p.proname as name, obj_description(p.oid, 'pg_proc') as comment from pg_proc p
      where p.pronamespace::regnamespace || '.' || p.proname = any (${[...ALLOWED]})`;
    expect([...new Set(rows.map((r) => r.name))].sort()).toEqual([...ALLOWED].sort());
    expect(rows.filter((r) => !r.comment).map((r) => r.name)).toEqual([]);
  });

  it("the queue has no row trigger: its writers move ordering lines and priorities themselves", async () => {
    // Any row trigger on event_queue, even one whose WHEN is false, makes every update and
    // delete of the queue fetch its old row again (supabase/schemas/bus/flow-control.sql): the drain's hot path.
    const triggers = await sql`select tgname from pg_trigger where tgrelid = 'feyxa.event_queue'::regclass and not tgisinternal`;
    expect(triggers).toEqual([]);
  });
});
