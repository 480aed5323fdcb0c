/**
 * supabase/schemas/ is the current definition of the database; supabase/migrations/ is the
 * history that reaches it. They must build the same database: one is built by the real
 * Supabase CLI (`supabase db push --db-url`, as the non-superuser postgres, the way a
 * project is deployed), the other from the schema files (applySchemas, as the suite's
 * template is), and the two are compared object by object through the catalogs
 * (scripts/db/catalog.ts). Any difference fails, naming the object and the lines that
 * differ. Runs on PostgreSQL 17 and in the PostgreSQL 15 tier.
 *
 * The comparison is shown to catch what it is for: a setting dropped from one function's
 * definition, and an index a migration adds that the schema files lack.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Catalog, compareCatalogs, describeDifference, readCatalog } from "../../scripts/db/catalog.ts";
import { applySchemas, SUPABASE_DIR } from "../../src/local/schemas.ts";
import { dbPush } from "../support/supabase-cli.ts";
import { emptyProjectDatabase, type ProjectDatabase } from "../support/test-postgres.ts";

const adminUrl = inject("pgAdminUrl");
const made: ProjectDatabase[] = [];
const scratch: string[] = [];

/** A copy of supabase/ (config, schema files, migrations) that a test may change. */
async function copyOfProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "feyxa-project-"));
  scratch.push(dir);
  await cp(SUPABASE_DIR, join(dir, "supabase"), { recursive: true, filter: (src) => !src.includes("/functions") });
  return join(dir, "supabase");
}

async function catalogOf(url: string): Promise<Catalog> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await readCatalog(sql);
  } finally {
    await sql.end();
  }
}

async function fromMigrations(supabaseDir = SUPABASE_DIR): Promise<Catalog> {
  const db = await emptyProjectDatabase(adminUrl);
  made.push(db);
  await dbPush(db.url, supabaseDir);
  return catalogOf(db.url);
}

async function fromSchemas(supabaseDir = SUPABASE_DIR): Promise<Catalog> {
  const db = await emptyProjectDatabase(adminUrl);
  made.push(db);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  await applySchemas(sql, { supabaseDir }).finally(() => sql.end());
  return catalogOf(db.url);
}

const differences = (migrations: Catalog, schemas: Catalog) =>
  compareCatalogs(migrations, schemas).map((d) => describeDifference(d, ["migrations", "schemas"]));

let migrated: Catalog;
let declared: Catalog;

beforeAll(async () => {
  // One after the other: shaping a database alters cluster-wide roles, which two sessions may not do at once.
  migrated = await fromMigrations();
  declared = await fromSchemas();
}, 120_000);

afterAll(async () => {
  await Promise.all(made.map((db) => db.drop()));
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("supabase/schemas/ and supabase/migrations/", () => {
  it("build the same database, object by object", () => {
    expect(migrated.size).toBeGreaterThan(400);
    expect([...migrated.values()].filter((o) => o.kind === "function").length).toBeGreaterThan(100);
    expect(differences(migrated, declared)).toEqual([]);
  });

  it("differ, naming the function, when a schema file drops one of a function's settings", async () => {
    const project = await copyOfProject();
    const file = join(project, "schemas/bus/emit.sql");
    const text = await readFile(file, "utf8");
    const start = text.indexOf("create or replace function feyxa.emit_event_report(");
    const end = text.indexOf("\nas $", start);
    expect(text.slice(start, end)).toContain("\nset jit = off");
    await writeFile(file, text.slice(0, start) + text.slice(start, end).replace("\nset jit = off", "") + text.slice(end));

    const found = differences(migrated, await fromSchemas(project));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^function feyxa\.emit_event_report\(.*\) differs\n/);
    expect(found[0]).toContain("migrations:  SET jit TO 'off'");
  });

  it("differ, naming the index, when a migration adds an index the schema files lack", async () => {
    const project = await copyOfProject();
    await writeFile(join(project, "migrations/29991231000000_an_index_forgotten.sql"),
      "create index events_log_forgotten_idx on feyxa.events_log (aggregate_type);\n");

    const found = differences(await fromMigrations(project), declared);
    expect(found).toEqual(["index feyxa.events_log_forgotten_idx: only in migrations"]);
  });
});
