/** Per-test-file database: `const db = await useDatabase()` in a describe, cleaned up after. */
import postgres from "postgres";
import { afterAll, inject } from "vitest";
import type { Sql } from "../../src/bus/types.ts";
import { cloneDatabase } from "./test-postgres.ts";

export interface TestDatabase {
  /** As postgres, the role the migrations, the functions and the tests use. */
  url: string;
  /** As supabase_admin: only for what a project's own roles may not do (LOAD 'auto_explain'). */
  superuserUrl: string;
  sql: Sql;
}

export async function useDatabase(): Promise<TestDatabase> {
  const clone = await cloneDatabase(inject("pgAdminUrl"), inject("pgTemplate"));
  const sql = postgres(clone.url, { max: 10, onnotice: () => {} });
  afterAll(async () => {
    await sql.end({ timeout: 5 });
    await clone.drop();
  });
  return { url: clone.url, superuserUrl: clone.superuserUrl, sql };
}
