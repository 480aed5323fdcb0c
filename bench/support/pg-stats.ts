/**
 * BENCH_PG_STATS=1: where the server's time went during a drain, from pg_stat_statements
 * (loaded by bench/support/server.ts): the statements of this database by total execution
 * time, nested ones (inside functions) included. Does nothing without the variable.
 */
import type { Sql } from "../../src/bus/types.ts";

const enabled = () => Boolean(process.env.BENCH_PG_STATS);

export async function resetStatementStats(sql: Sql): Promise<void> {
  if (!enabled()) return;
  await sql`create extension if not exists pg_stat_statements`;
  await sql`select pg_stat_statements_reset()`;
}

export async function printStatementStats(sql: Sql, label: string, top = 12): Promise<void> {
  if (!enabled()) return;
  const rows = await sql<{ ms: number; calls: number; rows: number; query: string }[]>`
    select round(total_exec_time)::int as ms, calls::int, rows::int, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) as query
    from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
    order by total_exec_time desc limit ${top}`;
  console.error(`bench  ${label}: server time by statement (pg_stat_statements)`);
  for (const r of rows) console.error(`  ${String(r.ms).padStart(6)} ms ${String(r.calls).padStart(7)} calls ${String(r.rows).padStart(7)} rows  ${r.query}`);
}
