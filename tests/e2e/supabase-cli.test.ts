/**
 * The Supabase CLI on a hosted project in miniature (hosted-project.ts: PostgreSQL 15 with
 * pg_net and pg_cron enabled as Supabase enables them): `supabase db push --db-url` applied
 * every migration as the non-superuser postgres, `supabase db lint` (plpgsql_check, which
 * Supabase ships) finds nothing in the bus or the application, and the pg_cron jobs the
 * migrations scheduled are the ones supabase/schemas/ declares (the catalogs' comparison,
 * tests/local/schema-equality.test.ts, runs where pg_cron is absent), each at the one period
 * the code declares for it (src/bus/schedules.ts, src/marketplace/settings.ts), which npm
 * start's scheduler follows too.
 *
 * Runs in the PostgreSQL 15 tier (`npm run test:pg15`); skipped elsewhere.
 */
import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUS_SCHEDULES, cronSchedule } from "../../src/bus/index.ts";
import { MIGRATIONS_DIR } from "../../src/local/migrate.ts";
import { MARKETPLACE_SCHEDULES } from "../../src/marketplace/settings.ts";
import { schemaFiles } from "../../src/local/schemas.ts";
import { dbLint } from "../support/supabase-cli.ts";
import { type HostedProject, startHostedProject, whyNotRunnable } from "./hosted-project.ts";

const inTier = process.env.FEYXA_TEST_PG === "15";

describe.skipIf(!inTier)("the Supabase CLI on PostgreSQL 15 with pg_net and pg_cron", () => {
  let project: HostedProject;

  beforeAll(async () => {
    const why = whyNotRunnable();
    if (why) throw new Error(`cannot run the end-to-end tier: ${why}`);
    project = await startHostedProject([]);
  }, 120_000);
  afterAll(async () => project?.stop(), 30_000);

  it("db push applied every migration, as postgres, and recorded each", async () => {
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
    const applied = await project.sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations order by 1`;
    expect(applied.map((r) => r.version)).toEqual(files.map((f) => f.split("_")[0]));
    const [{ owner }] = await project.sql`select pg_get_userbyid(relowner) as owner from pg_class where oid = 'feyxa.events_log'::regclass`;
    expect(owner).toBe("postgres");
  });

  it("db lint --level warning finds nothing in feyxa and public", async () => {
    await project.admin`create extension if not exists plpgsql_check`;
    expect(await dbLint(project.url, ["feyxa", "public"], "warning")).toEqual([]);
  });

  it("schedules, through the migrations, exactly the pg_cron jobs supabase/schemas/ declares", async () => {
    type Job = { jobname: string; schedule: string; command: string; username: string };
    const jobs = async (sql: typeof project.sql): Promise<Job[]> => [...await sql<Job[]>`
        select jobname, schedule, regexp_replace(trim(command), '\\s+', ' ', 'g') as command, username
        from cron.job where jobname like 'feyxa-%' order by jobname`];
    const migrated = await jobs(project.sql);
    expect(migrated.length).toBeGreaterThanOrEqual(4);
    // The schema files' scheduling, run again where the migrations' jobs are gone, and rolled back.
    const cronFiles = (await schemaFiles()).filter((f) => f.endsWith("/cron.sql"));
    const rollback = new Error("rollback");
    let declared: Job[] = [];
    await project.sql.begin(async (tx) => {
      await tx`select cron.unschedule(jobname) from cron.job where jobname like 'feyxa-%'`;
      for (const file of cronFiles) await tx.unsafe(await readFile(file, "utf8"));
      declared = await jobs(tx as unknown as typeof project.sql);
      throw rollback;
    }).catch((error) => {
      if (error !== rollback) throw error;
    });
    expect(declared).toEqual(migrated);
  });

  it("runs each pg_cron job at the one period the code declares for it, npm start's scheduler's too", async () => {
    type Row = { jobname: string; schedule: string };
    const byName = (a: Row, b: Row) => a.jobname.localeCompare(b.jobname);
    const declared = [...Object.values(BUS_SCHEDULES), ...Object.values(MARKETPLACE_SCHEDULES)]
      .map((s) => ({ jobname: s.job, schedule: cronSchedule(s.everyMs) })).sort(byName);
    const scheduled = await project.sql<Row[]>`select jobname, schedule from cron.job where jobname like 'feyxa-%'`;
    expect([...scheduled].sort(byName)).toEqual(declared);
    expect(declared.find((s) => s.jobname === "feyxa-retry-failed-events")?.schedule).toBe("30 seconds");
  });
});
