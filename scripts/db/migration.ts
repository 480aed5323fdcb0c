/**
 * `npm run db:migration -- <name>`: writes the next migration from supabase/schemas/.
 *
 * The loop: change the current definition in supabase/schemas/, run this, read the file it
 * writes, commit both. It builds two throw-away databases, one from the migrations and one
 * from the schema files, compares them object by object (scripts/db/catalog.ts), and
 * restates in supabase/migrations/<timestamp>_<name>.sql every object that differs and
 * that can be restated whole: functions with their settings, comments and grants; views;
 * policies; triggers; indexes; a new table; the comments and grants of a table. It then applies
 * that migration to the first database and compares again: what still differs holds data
 * (a column, a constraint, seeded rows...) and is listed, for the author to write by hand
 * under the generated part. tests/local/schema-equality.test.ts then holds the two equal.
 *
 * `--check`: write nothing; exit 1 when the migrations and the schema files differ.
 * Uses DATABASE_URL (a superuser URL) when set, else a throw-away embedded PostgreSQL 17.
 */
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import postgres, { type Sql } from "postgres";
import { migrate, MIGRATIONS_DIR } from "../../src/local/migrate.ts";
import { applySchemas } from "../../src/local/schemas.ts";
import { emptyProjectDatabase, startServer } from "../../tests/support/test-postgres.ts";
import { type CatalogDifference, compareCatalogs, describeDifference, readCatalog } from "./catalog.ts";
import { attachedDdls, functionDdls, qualified, restateFunction, restateTableAnnotations, tableDdls } from "./ddl.ts";

const SCHEMAS = ["feyxa", "public"];

/** The SQL that takes the database `before` connects to towards the one `after` connects to. */
async function restatements(before: Sql, after: Sql, differences: CatalogDifference[]): Promise<string[]> {
  const [oldFunctions, newFunctions, oldTables, newTables, oldAttached, newAttached] = await Promise.all([
    qualified(before, (tx) => functionDdls(tx, SCHEMAS)),
    qualified(after, (tx) => functionDdls(tx, SCHEMAS)),
    qualified(before, (tx) => tableDdls(tx, SCHEMAS)),
    qualified(after, (tx) => tableDdls(tx, SCHEMAS)),
    qualified(before, (tx) => attachedDdls(tx, SCHEMAS)),
    qualified(after, (tx) => attachedDdls(tx, SCHEMAS)),
  ]);
  const drops: string[] = [];
  // New tables before the rest: a function's body may name its row type (`v_row my_table`),
  // which PostgreSQL resolves when the function is created.
  const tables: string[] = [];
  const creates: string[] = [];
  for (const d of differences) {
    const { kind, name } = d.first ?? d.second!;
    if (kind === "function") {
      const was = oldFunctions.get(name);
      const is = newFunctions.get(name);
      if (!is) drops.push(`drop function ${name};`);
      else if (was && was.shape !== is.shape) {
        drops.push(`drop function ${name};`);
        creates.push(restateFunction(is));
      } else creates.push(restateFunction(is, was));
    } else if (kind === "view" || kind === "policy" || kind === "trigger" || kind === "index") {
      const was = oldAttached.get(`${kind} ${name}`);
      const is = newAttached.get(`${kind} ${name}`);
      if (was) drops.push(dropStatement(kind, name));
      if (is) creates.push(is);
    } else if (kind === "table" && d.change === "only in second") {
      tables.push(newTables.get(`table ${name}`)!.create);
    } else if (kind === "table" && d.change === "differs") {
      const annotations = restateTableAnnotations(oldTables.get(`table ${name}`)!, newTables.get(`table ${name}`)!);
      if (annotations.length) creates.push(annotations.join("\n"));
    }
  }
  return [...drops, ...tables, ...creates];
}

/** Whether restatements() writes this difference whole (else the author does). */
function restatable(d: CatalogDifference): boolean {
  const { kind } = d.first ?? d.second!;
  return ["function", "view", "policy", "trigger", "index"].includes(kind) || (kind === "table" && d.change === "only in second");
}

function dropStatement(kind: "view" | "policy" | "trigger" | "index", name: string): string {
  if (kind === "policy" || kind === "trigger") {
    const table = name.slice(0, name.lastIndexOf("."));
    return `drop ${kind} ${name.slice(table.length + 1)} on ${table};`;
  }
  return `drop ${kind} ${name};`;
}

/** `20261207203000`: the next migration's version, after every existing one. */
async function nextVersion(): Promise<string> {
  const now = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const last = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_/.test(f)).sort().at(-1)?.split("_")[0] ?? "0";
  return now > last ? now : String(BigInt(last) + 1n);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const name = args.find((a) => !a.startsWith("--"));
  if (!check && !(name && /^[a-z][a-z0-9_]*$/.test(name))) {
    console.error("usage: npm run db:migration -- <name, lowercase words joined by _>   (or -- --check)");
    process.exit(2);
  }
  const server = await startServer();
  const [fromMigrations, fromSchemas] = [await emptyProjectDatabase(server.superuserUrl), await emptyProjectDatabase(server.superuserUrl)];
  const before = postgres(fromMigrations.url, { max: 1, onnotice: () => {} });
  const after = postgres(fromSchemas.url, { max: 1, onnotice: () => {} });
  try {
    await migrate(before);
    await applySchemas(after);
    const differences = compareCatalogs(await readCatalog(before), await readCatalog(after));
    if (differences.length === 0) {
      console.log("supabase/schemas/ and supabase/migrations/ build the same database: no migration needed.");
      return;
    }
    if (check) {
      for (const d of differences) console.log(describeDifference(d, ["migrations", "schemas"]));
      process.exitCode = 1;
      return;
    }
    const statements = await restatements(before, after, differences);
    const file = join(MIGRATIONS_DIR, `${await nextVersion()}_${name}.sql`);
    // What is left once the generated part is applied holds data: the author writes it. When
    // the generated part cannot apply alone (an index on a column still to add), what is left
    // is everything not restated, and it goes above.
    const applied = await before.begin((tx) => tx.unsafe(statements.join("\n\n"))).then(() => undefined, (error: Error) => error);
    const left = applied ? differences.filter((d) => !restatable(d)) : compareCatalogs(await readCatalog(before), await readCatalog(after));
    const where = applied ? "above the generated part, which needs it" : "below";
    const header = [
      `-- Generated by \`npm run db:migration -- ${name}\` from supabase/schemas/: what the schema files`,
      "-- define differently from the migrations before this one, restated.",
      ...(left.length ? [
        "--",
        `-- Still to write by hand, ${where} (it holds data; the schema-equality test checks it):`,
        ...left.map((d) => `--   ${d.key}: ${d.change === "differs" ? "differs" : d.change === "only in first" ? "to drop" : "to create"}`),
      ] : []),
    ];
    await writeFile(file, `${header.join("\n")}\n\n${statements.join("\n\n")}\n`);
    console.log(`wrote ${file.slice(MIGRATIONS_DIR.length - "supabase/migrations/".length)}: ${statements.length} statement groups`);
    if (applied) console.log(`the generated part does not apply alone (${applied.message}): write what is listed above it`);
    for (const d of left) console.log(`to write by hand, ${where}: ${describeDifference(d, ["migrations", "schemas"])}`);
  } finally {
    await Promise.all([before.end(), after.end()]);
    await Promise.all([fromMigrations.drop(), fromSchemas.drop()]);
    await server.stop();
  }
}

await main();
