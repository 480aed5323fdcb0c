/**
 * The bench's PostgreSQL: the embedded one (a throw-away server, as the tests use) or the
 * server DATABASE_URL names. Every system gets a fresh database on that one server for
 * each workload, so no run sees another's rows, bloat or tuning.
 */
import postgres from "postgres";
import type { Sql } from "../../src/bus/types.ts";
import { cloneDatabase, startTestPostgres, type TestPostgres } from "../../tests/support/test-postgres.ts";

export interface BenchServer {
  /** "embedded PostgreSQL 18.x" or "DATABASE_URL: PostgreSQL 15.x". */
  description: string;
  /** A fresh database migrated for Feyxa (a clone of the migrated template). */
  feyxaDatabase(): Promise<BenchDatabase>;
  /** A fresh empty database, for a peer to install its own schema in. */
  emptyDatabase(): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

export interface BenchDatabase {
  url: string;
  /** An admin connection pool to this database (the bench's own checks, not the system's). */
  sql: Sql;
  drop(): Promise<void>;
}

const quiet = { onnotice: () => {} };

function open(clone: { url: string; drop(): Promise<void> }): BenchDatabase {
  const sql = postgres(clone.url, { max: 4, ...quiet });
  return {
    url: clone.url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await clone.drop();
    },
  };
}

export async function startBenchServer(): Promise<BenchServer> {
  // BENCH_PG_STATS=1: pg_stat_statements loaded, so that a drain can say where the server's time went.
  const pg: TestPostgres = await startTestPostgres(
    process.env.BENCH_PG_STATS ? { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" } : {},
  );
  const admin = postgres(pg.adminUrl, { max: 1, ...quiet });
  const [{ version }] = await admin<{ version: string }[]>`select current_setting('server_version') as version`;
  await admin`create database feyxa_bench_empty_template`.catch(() => {});
  await admin.end();
  return {
    description: `${process.env.DATABASE_URL ? "DATABASE_URL" : "embedded"} PostgreSQL ${version}`,
    feyxaDatabase: async () => open(await cloneDatabase(pg.adminUrl, pg.template)),
    emptyDatabase: async () => open(await cloneDatabase(pg.adminUrl, "feyxa_bench_empty_template")),
    async stop() {
      const sql = postgres(pg.adminUrl, { max: 1, ...quiet });
      await sql`drop database if exists feyxa_bench_empty_template`.catch(() => {});
      await sql.end();
      await pg.stop();
    },
  };
}
