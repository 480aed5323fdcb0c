/**
 * Runs statements as a signed-in caller, the way PostgREST runs a request: in one
 * transaction, under the API role `authenticated`, with the verified JWT claims in
 * request.jwt.claims. The database then decides (RLS, auth.uid(), the application's read hooks)
 * what the caller may read and do; the function never filters by role itself. The monitor's
 * reads and actions run so, and an application's functions may too (public API: ./index.ts).
 */
import type { TransactionSql } from "postgres";
import type { Claims } from "../auth.ts";
import type { Sql } from "../types.ts";

export type CallerSql = TransactionSql;

export async function asCaller<T>(
  sql: Sql,
  claims: Claims,
  work: (tx: CallerSql) => Promise<T>,
  { readOnly = true } = {},
): Promise<T> {
  // What the database refuses (42501 not an admin, P0002 no such event, 55000 not in this
  // state) reaches the caller through toHttpError, as every function's errors do.
  return (await sql.begin(readOnly ? "read only" : "read write", async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                    set_config('role', 'authenticated', true)`;
    return await work(tx);
  })) as T;
}
