/**
 * `npm run test:pg15`: the PostgreSQL 15 tier. Runs, on throw-away clusters of Debian's
 * PostgreSQL 15 (FEYXA_TEST_PG=15), the migrations and their equality with supabase/schemas/,
 * the security suite and the end-to-end tier (the Supabase CLI's db push and db lint, pg_net's
 * wake-up into process-event and pg_cron's retry-failed-events, both served by Deno: tests/e2e).
 *
 * Skipped, with the reason and exit 0, where ../shared/vendor (the pg_net and pg_cron
 * sources) or Debian's PostgreSQL 15 is absent. Where both are present but the extensions
 * are not built, it fails: building writes into PostgreSQL's lib folder and needs root,
 * so .ci/run does it (../shared/vendor/build-extensions.sh), never a test script.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { whyNotRunnable } from "../tests/e2e/hosted-project.ts";
import { DEBIAN_PG15_BIN, hasSystemPostgres } from "../tests/support/system-postgres.ts";

const root = new URL("../", import.meta.url).pathname;
const vendor = resolve(root, "../shared/vendor");
const FILES = [
  "tests/local/migrate.test.ts",
  "tests/local/schema-equality.test.ts",
  "tests/local/supabase-shape.test.ts",
  "tests/bus/privileges.test.ts",
  "tests/bus/wake.test.ts",
  "tests/security/",
  "tests/e2e/",
];

function close(outcome: string, code: number): never {
  console.log(`\n  PG15 tier  ${outcome}`);
  process.exit(code);
}

if (!existsSync(vendor)) close(`skipped: ${vendor} (the pg_net and pg_cron sources) is absent`, 0);
if (!hasSystemPostgres(DEBIAN_PG15_BIN)) close(`skipped: Debian's PostgreSQL 15 is not installed (${DEBIAN_PG15_BIN})`, 0);
const why = whyNotRunnable();
if (why) close(`failed: ${why}`, 1);

const started = performance.now();
const env: NodeJS.ProcessEnv = { ...process.env, FEYXA_TEST_PG: "15" };
delete env.DATABASE_URL; // an existing server would take the place of the PostgreSQL 15 clusters
const result = spawnSync(join(root, "node_modules/.bin/vitest"), ["run", ...FILES], { cwd: root, env, stdio: "inherit" });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const what = "migrations, security suite, end-to-end with pg_net + pg_cron";
close(`${result.status === 0 ? "passed" : "failed"} (PostgreSQL 15: ${what}) in ${seconds}s`, result.status ?? 1);
