/**
 * Runs the monitor's statements as the caller, the way PostgREST runs a request: in one
 * transaction, under the API role `authenticated`, with the verified JWT claims in
 * request.jwt.claims. The database then decides (RLS, auth.uid(), is_marketplace_admin())
 * what the caller may read and do; the function never filters by role itself.
 */
import type { TransactionSql } from "postgres";
import type { Claims } from "../../auth.ts";
import { HttpError } from "../../errors.ts";
import type { Sql } from "../../types.ts";

export type CallerSql = TransactionSql;

export async function asCaller<T>(
  sql: Sql,
  claims: Claims,
  work: (tx: CallerSql) => Promise<T>,
  { readOnly = true } = {},
): Promise<T> {
  try {
    return (await sql.begin(readOnly ? "read only" : "read write", async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                      set_config('role', 'authenticated', true)`;
      return await work(tx);
    })) as T;
  } catch (error) {
    throw fromSqlState(error);
  }
}

/** SQLSTATEs the monitor's SQL raises on purpose, as HTTP answers; anything else as it is. */
const BY_SQLSTATE: Record<string, [number, string]> = {
  "42501": [403, "forbidden"], // insufficient_privilege: not an admin, or a table the role may not read
  P0002: [404, "not_found"], // no_data_found: no such event
  "55000": [409, "conflict"], // object_not_in_prerequisite_state: not possible in the event's state
};

function fromSqlState(error: unknown): unknown {
  const e = error as { code?: unknown; message?: string; detail?: string };
  const mapped = typeof e?.code === "string" ? BY_SQLSTATE[e.code] : undefined;
  return mapped ? new HttpError(mapped[0], mapped[1], e.message ?? mapped[1], e.detail || undefined) : error;
}
