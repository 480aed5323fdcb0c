/**
 * What a drain cost the server. Always: WAL bytes written (pg_current_wal_lsn before and
 * after; the server runs nothing else) and, per table of the system, rows inserted, updated
 * (of which HOT), deleted (pg_stat_user_tables, read after the workers disconnected, so
 * that their backends have flushed their counters). With BENCH_PG_STATS=1 (the server
 * started with pg_stat_statements, bench/support/server.ts): the statements by total
 * execution time, nested ones (inside functions) included, read as the superuser.
 */
import postgres from "postgres";
import type { Sql } from "../../src/bus/index.ts";
import type { BenchDatabase } from "./server.ts";

const enabled = () => Boolean(process.env.BENCH_PG_STATS);

export interface TableWrites { table: string; ins: number; upd: number; hot: number; del: number }
export interface ServerSnapshot { lsn: string; tables: TableWrites[] }
export interface DrainCost {
  walBytes: number;
  /** Tables with any write during the drain. */
  tables: TableWrites[];
  /** HOT updates / updates, all the system's tables, %. */
  hotPct: number;
}

export async function snapshot(sql: Sql): Promise<ServerSnapshot> {
  const [{ lsn }] = await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
  const tables = await sql<TableWrites[]>`
    select schemaname || '.' || relname as table, n_tup_ins::int8::float8 as ins, n_tup_upd::float8 as upd,
           n_tup_hot_upd::float8 as hot, n_tup_del::float8 as del
    from pg_stat_user_tables where schemaname not in ('pg_catalog', 'information_schema')`;
  return { lsn, tables: tables.map((t) => ({ ...t, ins: Number(t.ins), upd: Number(t.upd), hot: Number(t.hot), del: Number(t.del) })) };
}

/** The drain's WAL and writes: `walAfter` taken when it finished, `after` once the workers were gone. */
export async function drainCost(sql: Sql, before: ServerSnapshot, walAfter: string, after: ServerSnapshot): Promise<DrainCost> {
  const [{ bytes }] = await sql<{ bytes: string }[]>`select pg_wal_lsn_diff(${walAfter}::pg_lsn, ${before.lsn}::pg_lsn)::text as bytes`;
  const was = new Map(before.tables.map((t) => [t.table, t]));
  const tables = after.tables.map((t) => {
    const b = was.get(t.table) ?? { ins: 0, upd: 0, hot: 0, del: 0 };
    return { table: t.table, ins: t.ins - b.ins, upd: t.upd - b.upd, hot: t.hot - b.hot, del: t.del - b.del };
  }).filter((t) => t.ins || t.upd || t.del).sort((a, b) => b.upd + b.ins + b.del - (a.upd + a.ins + a.del));
  const upd = tables.reduce((n, t) => n + t.upd, 0);
  const hot = tables.reduce((n, t) => n + t.hot, 0);
  return { walBytes: Number(bytes), tables, hotPct: upd ? (100 * hot) / upd : NaN };
}

export async function resetStatementStats(db: BenchDatabase): Promise<void> {
  if (!enabled()) return;
  const sql = postgres(db.superuserUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`create extension if not exists pg_stat_statements`;
    await sql`select pg_stat_statements_reset()`;
  } finally {
    await sql.end();
  }
}

export async function printStatementStats(db: BenchDatabase, label: string, cost?: DrainCost, events?: number, top = 12): Promise<void> {
  if (!enabled()) return;
  const sql = postgres(db.superuserUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ ms: number; calls: number; rows: number; blks: number; query: string }[]>`
      select round(total_exec_time)::int as ms, calls::int, rows::int, (shared_blks_hit + shared_blks_read + shared_blks_dirtied)::int as blks,
             left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as query
      from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
      order by total_exec_time desc limit ${top}`;
    console.error(`bench  ${label}: server time by statement (pg_stat_statements; blks = shared hit + read + dirtied)`);
    for (const r of rows) console.error(`  ${String(r.ms).padStart(6)} ms ${String(r.calls).padStart(7)} calls ${String(r.rows).padStart(7)} rows ${String(r.blks).padStart(9)} blks  ${r.query}`);
  } finally {
    await sql.end();
  }
  if (cost && events) {
    console.error(`bench  ${label}: WAL ${Math.round(cost.walBytes / events)} bytes/event; HOT ${cost.hotPct.toFixed(0)} % of updates`);
    for (const t of cost.tables) console.error(`  ${t.table.padEnd(36)} ins ${t.ins} upd ${t.upd} (hot ${t.hot}) del ${t.del}`);
  }
}
