/**
 * Settings local to a transaction (set_config(..., true)) that the statements after them
 * read: the emitter's traceparent, an event's story. In the caller's transaction when it
 * has one (they end with it), else in one begun for them.
 */
import type { Queryable, Sql } from "./types.ts";

/** Whether sql is a transaction (postgres.js gives only those savepoint()). */
const inTransaction = (sql: Queryable): boolean => "savepoint" in sql;

/** Runs `set`, then `fn`, in one transaction: sql's, or one begun for them. */
export async function withLocalSettings<T>(sql: Queryable, set: (tx: Queryable) => Promise<unknown>, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  if (inTransaction(sql)) {
    await set(sql);
    return await fn(sql);
  }
  return await (sql as Sql).begin(async (tx) => {
    await set(tx);
    return await fn(tx);
  }) as T;
}
