/**
 * The test suite's PostgreSQL, made the way a hosted Supabase project's is
 * (src/local/supabase-shape.sql): the cluster's superuser is supabase_admin; the
 * migrations run as the non-superuser `postgres` under Supabase's default privileges;
 * tests connect as `postgres`, as the functions' SUPABASE_DB_URL does.
 *
 * Which server:
 * - default: a throw-away embedded PostgreSQL 17 (what new Supabase projects run);
 * - FEYXA_TEST_PG=15: a throw-away cluster of Debian's PostgreSQL 15 (many existing projects);
 * - DATABASE_URL: an existing server, as a superuser (it plays supabase_admin; the shape's
 *   roles are created there).
 *
 * A template database is shaped and built once from the current definition,
 * supabase/schemas/ (which tests/local/schema-equality.test.ts holds equal to what the
 * migrations build); each test file clones it (CREATE DATABASE ... TEMPLATE takes a few
 * tens of milliseconds), so tests never see each other's rows.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { applySchemas } from "../../src/local/schemas.ts";
import { syncRoutes } from "../../src/bus/route-sync.ts";
import { engineHandlers, ROUTE_SOURCE } from "../../src/marketplace/engines/index.ts";
import { startEmbeddedPostgres } from "../../src/local/postgres.ts";
import { asMigrator, createProjectDatabase, shapeLikeHosted, withDatabase } from "../../src/local/supabase-shape.ts";
import { startSystemPostgres } from "./system-postgres.ts";

export { withDatabase };

export interface TestPostgres {
  /** As supabase_admin, the maintenance database: for CREATE/DROP DATABASE only. */
  adminUrl: string;
  template: string;
  /** The server's major version (17, or 15 under FEYXA_TEST_PG=15). */
  major: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A temporary folder the postgres user can enter too (when the suite runs as root). */
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "feyxa-test-"));
  await chmod(dir, 0o755);
  return dir;
}

interface Server { superuserUrl: string; stop(): Promise<void> }

/** The server the suite runs on, its maintenance database shaped like a hosted project's. */
export async function startServer(settings: Record<string, string> = {}): Promise<Server> {
  if (process.env.DATABASE_URL) {
    await shapeLikeHosted(process.env.DATABASE_URL, "postgres"); // the cluster's roles; the servers started here come shaped
    return { superuserUrl: process.env.DATABASE_URL, stop: async () => {} };
  }
  if (process.env.FEYXA_TEST_PG === "15") return await startSystemPostgres(await freePort(), settings);
  if (process.env.FEYXA_TEST_PG && process.env.FEYXA_TEST_PG !== "17") throw new Error("FEYXA_TEST_PG is 17 (embedded, the default) or 15 (Debian's)");
  const scratch = await scratchDir();
  const pg = await startEmbeddedPostgres({ dataDir: join(scratch, "pg"), port: await freePort(), persistent: false, settings });
  return {
    superuserUrl: pg.superuserUrl!,
    async stop() {
      await pg.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** @param settings extra server settings (ignored with DATABASE_URL). */
export async function startTestPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  const server = await startServer(settings);
  const adminUrl = server.superuserUrl;
  const template = `feyxa_template_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${template}`);
  const [{ major }] = await admin<{ major: number }[]>`select current_setting('server_version_num')::int / 10000 as major`;
  await admin.end();
  await createProjectDatabase(adminUrl, template);
  await shapeLikeHosted(adminUrl, template);
  const templateSql = postgres(asMigrator(withDatabase(adminUrl, template)), { max: 1, onnotice: () => {} });
  await applySchemas(templateSql);
  await syncRoutes(templateSql, ROUTE_SOURCE, engineHandlers()); // the routes as npm start leaves them
  await templateSql.end();
  return {
    adminUrl,
    template,
    major,
    async stop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${template} with (force)`).catch(() => {});
      await sql.end();
      await server.stop();
    },
  };
}

export interface ProjectDatabase {
  /** As postgres. */
  url: string;
  /** As supabase_admin. */
  superuserUrl: string;
  drop(): Promise<void>;
}

/** A new database shaped like a hosted project's and holding nothing of ours: for a test that builds it itself. */
export async function emptyProjectDatabase(adminUrl: string): Promise<ProjectDatabase> {
  const name = `feyxa_e_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await createProjectDatabase(adminUrl, name);
  await shapeLikeHosted(adminUrl, name);
  return projectDatabase(adminUrl, name);
}

function projectDatabase(adminUrl: string, name: string): ProjectDatabase {
  const superuserUrl = withDatabase(adminUrl, name);
  return {
    url: asMigrator(superuserUrl),
    superuserUrl,
    async drop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}

/** A fresh database cloned from the template; its url connects as `postgres`. */
export async function cloneDatabase(adminUrl: string, template: string): Promise<ProjectDatabase> {
  const name = `feyxa_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await createProjectDatabase(adminUrl, name, template);
  return projectDatabase(adminUrl, name);
}
