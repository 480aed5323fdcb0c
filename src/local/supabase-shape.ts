/**
 * Makes a database the way a hosted Supabase project's is before our migrations run:
 * Supabase's roles and default privileges, the auth schema owned by Supabase Auth, the
 * extensions schema, a Vault (supabase-shape.sql says which hosted fact each part is).
 * Used by `npm start`'s embedded PostgreSQL and by every test database, so the
 * migrations always run as hosted ones do: as the non-superuser `postgres`.
 */
import { readFile } from "node:fs/promises";
import postgres from "postgres";

/** The cluster's superuser, as on a hosted project (the migrations never run as it). */
export const SUPERUSER = "supabase_admin";
/** The role the migrations and the functions' SUPABASE_DB_URL connect as. */
export const MIGRATOR = { user: "postgres", password: "postgres" };

const SHAPE = new URL("./supabase-shape.sql", import.meta.url);
const EXTENSIONS = new URL("./supabase-shape-extensions.sql", import.meta.url);

export interface ShapeOptions {
  /**
   * Also enable pg_net and pg_cron with the grants Supabase gives postgres
   * (supabase-shape-extensions.sql). The server must preload both and name `database` as
   * pg_net.database_name and cron.database_name.
   */
  extensions?: boolean;
}

/** Applies the hosted shape to `database` of the server at `superuserUrl` (idempotent). */
export async function shapeLikeHosted(superuserUrl: string, database: string, options: ShapeOptions = {}): Promise<void> {
  const sql = postgres(withDatabase(superuserUrl, database), { max: 1, onnotice: () => {} });
  try {
    // One role-creating statement at a time across processes: CREATE ROLE is cluster-wide.
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(41182612)`;
      await tx.unsafe(await readFile(SHAPE, "utf8"));
      if (options.extensions) await tx.unsafe(await readFile(EXTENSIONS, "utf8"));
    });
  } finally {
    await sql.end();
  }
}

/** Creates `database` owned by postgres (as on a hosted project), from `template` if given. */
export async function createProjectDatabase(superuserUrl: string, database: string, template?: string): Promise<void> {
  const sql = postgres(superuserUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database ${database} owner postgres${template ? ` template ${template}` : ""}`);
  } finally {
    await sql.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The same server and database, as the migrating role `postgres`. */
export function asMigrator(url: string): string {
  const u = new URL(url);
  u.username = MIGRATOR.user;
  u.password = MIGRATOR.password;
  return u.toString();
}
