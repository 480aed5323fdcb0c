/**
 * Applies supabase/migrations/*.sql in order, each in its own transaction, recording
 * each in supabase_migrations.schema_migrations as the Supabase CLI does (so a database
 * migrated here is seen as up to date by `supabase db push`, and the other way round).
 * An advisory lock serialises migrators: two processes starting at once apply each
 * file once.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Sql, TransactionSql } from "postgres";

export const MIGRATIONS_DIR = new URL("../../supabase/migrations/", import.meta.url).pathname;
const LOCK_KEY = 41_182_611; // any constant shared by every migrator of this project

export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    const [version] = file.split("_");
    const text = await readFile(join(dir, file), "utf8");
    const didApply = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      if (await isRecorded(tx, version)) return false;
      await tx.unsafe(text);
      await recordMigration(tx, file, text);
      return true;
    });
    if (didApply) applied.push(file);
  }
  return applied;
}

/** The Supabase CLI's history table, made where it is missing. */
async function historyTable(tx: TransactionSql): Promise<void> {
  await tx.unsafe(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (
      version text primary key, statements text[], name text)`);
}

async function isRecorded(tx: TransactionSql, version: string): Promise<boolean> {
  await historyTable(tx);
  const [done] = await tx`select 1 from supabase_migrations.schema_migrations where version = ${version}`;
  return done !== undefined;
}

/** Records `file` (`<version>_<name>.sql`) as applied, as the Supabase CLI does. */
export async function recordMigration(tx: TransactionSql, file: string, text: string): Promise<void> {
  const [version, ...rest] = file.replace(/\.sql$/, "").split("_");
  await historyTable(tx);
  await tx`insert into supabase_migrations.schema_migrations (version, name, statements)
           values (${version}, ${rest.join("_")}, ${[text]}) on conflict (version) do nothing`;
}
