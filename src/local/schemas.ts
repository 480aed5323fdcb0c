/**
 * The database's current definition, supabase/schemas/: the files `config.toml` names
 * under `[db.migrations] schema_paths`, in that order (Supabase's declarative schemas).
 * The migrations are the history that reaches the same database; the schema-equality test
 * (tests/local/schema-equality.test.ts) holds the two together.
 *
 * applySchemas builds a database from the files directly, in one transaction: the test
 * suite's template is made this way. The database is then recorded as migrated up to the
 * last migration, as it would be by `supabase db push` or migrate(), which it equals.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Sql } from "postgres";
import { recordMigration } from "./migrate.ts";

export const SUPABASE_DIR = new URL("../../supabase/", import.meta.url).pathname;

/** The schema files config.toml lists, as paths, in their order. */
export async function schemaFiles(supabaseDir = SUPABASE_DIR): Promise<string[]> {
  const config = await readFile(join(supabaseDir, "config.toml"), "utf8");
  const section = config.split(/^\[db\.migrations\]\s*$/m)[1]?.split(/^\[/m)[0];
  const list = section?.match(/^schema_paths\s*=\s*\[([^\]]*)\]/m)?.[1];
  if (list === undefined) throw new Error("supabase/config.toml: no [db.migrations] schema_paths");
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => join(supabaseDir, m[1]));
}

/**
 * Creates every object of supabase/schemas/ in the database `sql` connects to (shaped like
 * a hosted project, nothing of ours in it yet), as the role it connects as, and records
 * every migration of `migrationsDir` as applied. Function bodies are checked when called,
 * not when created, as pg_dump's restores do: a file may name what a later file creates.
 */
export async function applySchemas(sql: Sql, options: { supabaseDir?: string; migrationsDir?: string } = {}): Promise<void> {
  const supabaseDir = options.supabaseDir ?? SUPABASE_DIR;
  const files = await schemaFiles(supabaseDir);
  const migrationsDir = options.migrationsDir ?? join(supabaseDir, "migrations");
  const migrations = (await readdir(migrationsDir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  await sql.begin(async (tx) => {
    await tx`set local check_function_bodies = off`;
    for (const file of files) {
      const text = await readFile(file, "utf8");
      await tx.unsafe(text).catch((error: Error & { position?: string }) => {
        const line = error.position ? text.slice(0, Number(error.position)).split("\n").length : undefined;
        throw new Error(`${file.slice(supabaseDir.length)}${line ? `:${line}` : ""}: ${error.message}`, { cause: error });
      });
    }
    for (const file of migrations) await recordMigration(tx, file, await readFile(join(migrationsDir, file), "utf8"));
  });
}
