/**
 * `npm run test:deno`: type-checks the Edge Function entrypoints with `deno check`, then
 * runs tests/deno against a fresh, migrated database (embedded, or under DATABASE_URL).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cloneDatabase, startTestPostgres } from "../tests/support/test-postgres.ts";

const deno = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
// Every Edge Function: each folder of supabase/functions but _shared has an index.ts entrypoint.
const entrypoints = readdirSync(new URL("../supabase/functions/", import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith("_"))
  .map((d) => `supabase/functions/${d.name}/index.ts`);

function run(args: string[], env: Record<string, string> = {}): void {
  const result = spawnSync(deno, args, { stdio: "inherit", env: { ...process.env, ...env, NO_COLOR: "1" } });
  if (result.status !== 0) throw new Error(`deno ${args[0]} failed (exit ${result.status})`);
}

const pg = await startTestPostgres();
let failed = false;
try {
  run(["check", ...entrypoints, "tests/deno/functions.test.ts"]);
  const db = await cloneDatabase(pg.adminUrl, pg.template);
  try {
    run(["test", "--allow-net", "--allow-env", "--allow-read", "--allow-run", "tests/deno/"], { DATABASE_URL: db.url });
  } finally {
    await db.drop();
  }
} catch (error) {
  console.error(String(error));
  failed = true;
} finally {
  await pg.stop();
}
process.exit(failed ? 1 : 0);
