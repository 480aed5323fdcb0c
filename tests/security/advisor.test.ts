/**
 * The Security Advisor gate: Supabase's Security Advisor checks (tests/support/advisor.ts,
 * after supabase/splinter) run on the migrated, hosted-shaped database, and any finding
 * not in ALLOWED fails. Each allowed finding says why it is safe; an entry that no longer
 * matches a finding fails too, so the list only shrinks with the code.
 */
import { describe, expect, it } from "vitest";
import type { Sql } from "../../src/bus/types.ts";
import { LINTS, runAdvisor } from "../support/advisor.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();

const POLICY_HELPER = "a policy helper: signed-in users' RLS policies call it, so authenticated must execute it; it answers only about the caller (auth.uid()) and returns no row of any table";

/** "lint object" → why it is safe. */
const ALLOWED: Record<string, string> = {
  "0011_function_search_path_mutable feyxa.event_type_is_valid(text)":
    "deliberately without SET search_path so that it is inlined into the event_type_name domain check (a call costs microseconds per event stored); every name in it is schema-qualified (operator(pg_catalog.~), pg_catalog.length), so no search_path changes what it calls; not executable by anon/authenticated",
  "0011_function_search_path_mutable feyxa.handler_runs(jsonb)":
    "deliberately without SET search_path so that it is inlined into complete_attempts, whose pinned search_path then applies; it reads no table, only its argument; not executable by anon/authenticated",
  "0011_function_search_path_mutable feyxa.waiting_reason(text,integer,boolean,timestamp with time zone,timestamp with time zone)":
    "deliberately without SET search_path so that it is inlined into the monitor's reads of the queue; it reads no table, only its arguments, and names every operator qualified (operator(pg_catalog.=), pg_catalog.now()), so no search_path changes what it computes",
  "0029_authenticated_security_definer_function_executable is_marketplace_admin()": POLICY_HELPER,
  "0029_authenticated_security_definer_function_executable is_store_member(uuid)": POLICY_HELPER,
  "0029_authenticated_security_definer_function_executable my_store_ids()": POLICY_HELPER,
};

describe("Security Advisor", () => {
  it("finds nothing on the migrated database that the allow-list does not explain", async () => {
    const findings = await runAdvisor(sql);
    expect(findings.filter((f) => !(f in ALLOWED)), "unexplained findings").toEqual([]);
    expect(Object.keys(ALLOWED).filter((f) => !findings.includes(f)), "allow-list entries that no longer match a finding").toEqual([]);
  });

  it("each check finds what it is about (on objects made for it, rolled back)", async () => {
    const found = await withBadObjects(async (tx) => runAdvisor(tx));
    const probes = found.filter((f) => f.includes("advisor_probe"));
    for (const lint of Object.keys(LINTS)) {
      if (lint === "0014_extension_in_public") continue; // creating an extension needs rights the migrating role lacks
      expect(probes.some((f) => f.startsWith(`${lint} `)), `${lint} found no probe`).toBe(true);
    }
    // The allowed findings of the real database are found again, unchanged, beside the probes.
    expect(found.filter((f) => !f.includes("advisor_probe"))).toEqual(Object.keys(ALLOWED).sort());
  });
});

/** Runs `check` with one offending object per lint in place, as postgres makes them (Supabase's default privileges apply), then rolls back. */
async function withBadObjects(check: (tx: Sql) => Promise<string[]>): Promise<string[]> {
  let result: string[] = [];
  const rollback = new Error("rollback");
  await sql.begin(async (tx) => {
    await tx.unsafe(`
      create table advisor_probe_open (id int, password text);                       -- 0013, 0023: no RLS
      create policy advisor_probe_unused on advisor_probe_open using (true);         -- 0007: RLS off
      create table advisor_probe_rls (id int, owner uuid);
      alter table advisor_probe_rls enable row level security;
      create policy advisor_probe_per_row on advisor_probe_rls for select using (owner = auth.uid());        -- 0003
      create policy advisor_probe_meta on advisor_probe_rls for select using ((auth.jwt() -> 'user_metadata' ->> 'x') = 'y'); -- 0015
      create policy advisor_probe_any_delete on advisor_probe_rls for delete to authenticated using (true);   -- 0024
      create table advisor_probe_nopolicy (id int);
      alter table advisor_probe_nopolicy enable row level security;                  -- 0008: granted, no policy
      create view advisor_probe_view as select * from advisor_probe_rls;             -- 0010
      create view advisor_probe_users as select id, email from auth.users;           -- 0002
      create materialized view advisor_probe_matview as select 1 as one;             -- 0016
      create function advisor_probe_fn() returns int language sql security definer as 'select 1'; -- 0011, 0028, 0029
    `);
    result = await check(tx as unknown as Sql);
    throw rollback;
  }).catch((error) => {
    if (error !== rollback) throw error;
  });
  return result;
}
