/**
 * `npm run test:deno`: type-checks the Edge Function entrypoints with `deno check`, then
 * runs tests/deno against a fresh, migrated database (embedded, or under DATABASE_URL):
 * the entrypoints started from the repository, and each function's deploy upload set
 * checked and run on its own (tests/deno/deploy.test.ts).
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { cloneDatabase, startTestPostgres } from "../tests/support/test-postgres.ts";

const deno = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
/** The entrypoint (index.ts) of each function folder under `dir` (relative to the root); folders starting with _ are shared code. */
const entrypointsIn = (dir: string) =>
  readdirSync(new URL(`../${dir}/`, import.meta.url), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("_"))
    .map((d) => `${dir}/${d.name}/index.ts`);
// Every Edge Function, and the bench's own (bench/workloads/supabase-path.ts), checked with them.
const entrypoints = [...entrypointsIn("supabase/functions"), ...entrypointsIn("bench/functions")];

// tests/deno/deploy.test.ts fetches the npm packages from the registry, as Supabase's bundler
// does: the one npm is configured with (npm run sets npm_config_registry), when not the default.
const registry = process.env.NPM_CONFIG_REGISTRY ?? process.env.npm_config_registry;
const registryEnv = registry && registry !== "https://registry.npmjs.org/" ? { NPM_CONFIG_REGISTRY: registry } : {};

function run(args: string[], env: Record<string, string> = {}): void {
  const result = spawnSync(deno, args, { stdio: "inherit", env: { ...process.env, ...registryEnv, ...env, NO_COLOR: "1" } });
  if (result.status !== 0) throw new Error(`deno ${args[0]} failed (exit ${result.status})`);
}

const pg = await startTestPostgres();
let failed = false;
try {
  run(["check", ...entrypoints, "tests/deno/functions.test.ts", "tests/deno/deploy.test.ts"]);
  const db = await cloneDatabase(pg.adminUrl, pg.template);
  try {
    run(["test", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-run", "tests/deno/"], { DATABASE_URL: db.url });
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
