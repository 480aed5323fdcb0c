/** Runs SQL as an API role the way PostgREST does, then rolls back. */
import type { Sql } from "../../src/bus/types.ts";

export type ApiRole = "anon" | "authenticated" | "service_role";

/**
 * `set local role` plus `request.jwt.claims` (`{role, sub?}`), in a transaction that is
 * always rolled back. Returns what `query` returned, or `denied:<SQLSTATE>` when it threw
 * a database error (42501 is "permission denied", or a row-level security refusal).
 */
export async function asApiRole(sql: Sql, role: ApiRole, sub: string | undefined, query: (tx: Sql) => Promise<unknown>): Promise<unknown> {
  const claims = sub ? { sub, role } : { role };
  let result: unknown;
  const rollback = new Error("rollback");
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      await tx.unsafe(`set local role ${role}`);
      result = await query(tx as unknown as Sql);
      throw rollback;
    });
  } catch (error) {
    if (error !== rollback) {
      const code = (error as { code?: string }).code;
      if (!code) throw error;
      return `denied:${code}`;
    }
  }
  return result;
}
