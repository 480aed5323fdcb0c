/**
 * The bench's PostgreSQL tiers: the embedded 17 (what new Supabase projects run, the
 * project's default), a throw-away cluster of Debian's 15 (many existing projects) started
 * in a temp dir, or the one server DATABASE_URL names. Made as the tests make theirs
 * (tests/support/test-postgres.ts): superuser supabase_admin, and every system (ours and
 * the peers) connects as the non-superuser `postgres`, owner of its database. Every
 * system gets a fresh database for each workload, so no run sees another's rows or bloat.
 */
import postgres from "postgres";
import type { Sql } from "../../src/bus/index.ts";
import { cloneDatabase, startTestPostgres, type TestPostgres } from "../../tests/support/test-postgres.ts";
import { DEBIAN_PG15_BIN, hasSystemPostgres } from "../../tests/support/system-postgres.ts";

export type Tier = "17" | "15" | "url";

export interface BenchServer {
  tier: Tier;
  /** "embedded PostgreSQL 17.x", "Debian PostgreSQL 15.x (a cluster started by the bench)" or "DATABASE_URL: PostgreSQL 15.x". */
  description: string;
  /** The role the systems connect as, for the output. */
  role: string;
  /** A fresh database migrated for Feyxa (a clone of the migrated template). */
  feyxaDatabase(): Promise<BenchDatabase>;
  /** A fresh empty database, for a peer to install its own schema in. */
  emptyDatabase(): Promise<BenchDatabase>;
  /** As the cluster superuser, the maintenance database (for another template: support/base-rev.ts). */
  adminUrl: string;
  /** A fresh database cloned from `template` (one the bench made on this server). */
  cloneOf(template: string): Promise<BenchDatabase>;
  stop(): Promise<void>;
}

export interface BenchDatabase {
  /** As `postgres` (not a superuser): what the system under test connects with. */
  url: string;
  /** As the superuser: the bench's own statistics (pg_stat_statements), never the system's work. */
  superuserUrl: string;
  /** A pool as `postgres` to this database (the bench's own checks, not the system's). */
  sql: Sql;
  drop(): Promise<void>;
}

const quiet = { onnotice: () => {} };
/** The application_name of the bench's own connections, so that it can tell the system's apart. */
export const BENCH_APP = "feyxa-bench";

function open(clone: { url: string; superuserUrl: string; drop(): Promise<void> }): BenchDatabase {
  const sql = postgres(clone.url, { max: 4, ...quiet, connection: { application_name: BENCH_APP } });
  return {
    url: clone.url,
    superuserUrl: clone.superuserUrl,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await clone.drop();
    },
  };
}

/** Why a tier cannot run on this machine, or undefined. */
export function whyNoTier(tier: Tier): string | undefined {
  if (tier === "15" && !hasSystemPostgres(DEBIAN_PG15_BIN)) return `PostgreSQL 15 tier skipped: Debian's PostgreSQL 15 is not installed (${DEBIAN_PG15_BIN}; apt-get install postgresql-15)`;
  return undefined;
}

export async function startBenchServer(tier: Tier): Promise<BenchServer> {
  // The test support picks its server from these variables; the bench sets them per tier.
  if (tier !== "url") process.env.FEYXA_TEST_PG = tier;
  // BENCH_PG_STATS=1: pg_stat_statements loaded, so that a drain can say where the server's time went.
  const pg: TestPostgres = await startTestPostgres(
    process.env.BENCH_PG_STATS ? { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" } : {},
  );
  const admin = postgres(pg.adminUrl, { max: 1, ...quiet });
  const [{ version }] = await admin<{ version: string }[]>`select current_setting('server_version') as version`;
  await admin`create database feyxa_bench_empty_template owner postgres`.catch(() => {});
  await admin.end();
  const where = { "17": "embedded", "15": "Debian", url: "DATABASE_URL:" }[tier];
  return {
    tier,
    description: `${where} PostgreSQL ${version.split(" ")[0]}${tier === "15" ? " (a throw-away cluster started by the bench)" : ""}`,
    role: "every system connects as `postgres` (not a superuser; owner of its database), the cluster superuser being supabase_admin, as on a Supabase project",
    feyxaDatabase: async () => open(await cloneDatabase(pg.adminUrl, pg.template)),
    emptyDatabase: async () => open(await cloneDatabase(pg.adminUrl, "feyxa_bench_empty_template")),
    adminUrl: pg.adminUrl,
    cloneOf: async (template) => open(await cloneDatabase(pg.adminUrl, template)),
    async stop() {
      const sql = postgres(pg.adminUrl, { max: 1, ...quiet });
      await sql`drop database if exists feyxa_bench_empty_template`.catch(() => {});
      await sql.end();
      await pg.stop();
    },
  };
}
