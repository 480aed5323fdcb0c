import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { migrate } from "../../src/local/migrate.ts";
import { useDatabase } from "../support/database.ts";

const db = await useDatabase();

describe("migrate", () => {
  it("is idempotent and safe when several processes start at once", async () => {
    // The template was migrated already; wipe the bus (its schema) to migrate again from scratch.
    await db.sql.unsafe(`
      drop schema feyxa cascade;
      truncate supabase_migrations.schema_migrations`);
    const pools = Array.from({ length: 4 }, () => postgres(db.url, { max: 1, onnotice: () => {} }));
    const applied = await Promise.all(pools.map((p) => migrate(p)));
    await Promise.all(pools.map((p) => p.end()));

    const files = applied.flat();
    expect(new Set(files).size).toBe(files.length); // each file applied by exactly one process
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(await migrate(db.sql)).toEqual([]);
    const [{ n }] = await db.sql`select count(*)::int as n from feyxa.event_subscriptions`;
    expect(n).toBe(17); // the V1 mapping and the intelligence handlers, seeded once
  });
});
