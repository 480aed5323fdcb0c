/**
 * The functions as `supabase functions deploy` ships them: for each function of
 * supabase/config.toml, only its upload set (tests/deno/upload-set.ts: the entrypoint, the
 * files it reaches by relative import, the import map config.toml names) is copied to an
 * empty folder, with the same layout. There, with a fresh DENO_DIR (npm packages fetched
 * from the registry, NPM_CONFIG_REGISTRY when set, as Supabase's bundler does), each
 * function must pass `deno check`, and process-event must start with `deno run` and serve
 * a real request against the test database.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import postgres from "postgres";
import { type DeployedFunction, deployedFunctions, uploadSet } from "./upload-set.ts";

const databaseUrl = Deno.env.get("DATABASE_URL");
if (!databaseUrl) throw new Error("run through `npm run test:deno`, which provides DATABASE_URL");
const root = new URL("../../", import.meta.url).pathname;

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const functions = deployedFunctions(root);
const scratch = Deno.makeTempDirSync({ prefix: "feyxa-deploy-" });
/** One fresh Deno cache for the whole run: nothing from the developer's cache or node_modules. */
const denoDir = join(scratch, "deno-dir");

/** Copies a function's upload set, and nothing else, to <scratch>/<name>/; returns that folder. */
function stage(fn: DeployedFunction): string {
  const folder = join(scratch, fn.name);
  const { files, missing } = uploadSet(root, fn);
  assert(missing.length === 0, `${fn.name}: the upload would miss ${missing.join(", ")}`);
  for (const file of files) {
    mkdirSync(join(folder, dirname(file)), { recursive: true });
    copyFileSync(join(root, file), join(folder, file));
  }
  return folder;
}

async function deno(args: string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args, cwd, env: { DENO_DIR: denoDir, NO_COLOR: "1" }, stdout: "piped", stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { ok: success, output: decode(stdout) + decode(stderr) };
}

const registry: Record<string, string> = Deno.env.get("NPM_CONFIG_REGISTRY") ? { NPM_CONFIG_REGISTRY: Deno.env.get("NPM_CONFIG_REGISTRY")! } : {};

/**
 * The flags that make Deno read only what was uploaded: the import map config.toml names (a
 * deno.json named there is read as the configuration it is, nodeModulesDir and all: that is
 * what broke the bundle), and no configuration found by walking up.
 */
const mapFlags = (importMap: string | undefined) =>
  !importMap ? ["--no-config"] : /(^|\/)deno\.jsonc?$/.test(importMap) ? ["--config", importMap] : ["--no-config", "--import-map", importMap];

const folders = new Map<string, string>();

Deno.test("config.toml deploys every function folder, each with an import map, and each upload set is complete", () => {
  const dirs = readdirSync(join(root, "supabase/functions"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("_")).map((d) => d.name).sort();
  assert(JSON.stringify(functions.map((f) => f.name).sort()) === JSON.stringify(dirs),
    `config.toml lists ${functions.map((f) => f.name)}, supabase/functions has ${dirs}`);
  for (const fn of functions) {
    assert(fn.importMap, `${fn.name} names no import map in config.toml`);
    const { files, missing } = uploadSet(root, fn);
    assert(missing.length === 0, `${fn.name}: the upload would miss ${missing.join(", ")}`);
    assert(!files.some((f) => /(^|\/)(node_modules|package\.json|deno\.lock)/.test(f)), `${fn.name} would upload ${files}`);
  }
});

Deno.test("the deployed import map asks the registry for the versions package.json installs locally", () => {
  const { dependencies } = JSON.parse(Deno.readTextFileSync(join(root, "package.json"))) as { dependencies: Record<string, string> };
  for (const importMap of new Set(functions.map((fn) => fn.importMap!))) {
    const { imports } = JSON.parse(Deno.readTextFileSync(join(root, importMap))) as { imports: Record<string, string> };
    for (const [name, target] of Object.entries(imports)) {
      const npm = /^npm:(@?[^@]+)@(.+)$/.exec(target);
      assert(npm && npm[1] === name && dependencies[name] === npm[2], `${importMap}: ${name} → ${target}, package.json has ${dependencies[name]}`);
    }
  }
});

Deno.test({
  name: "each function's upload set alone passes deno check, npm packages from the registry",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const started = performance.now();
    for (const fn of functions) folders.set(fn.name, stage(fn));
    // One `deno check` per import map over every function's own folder (<name>/supabase/…):
    // each entrypoint's relative imports resolve inside its own upload set, and the npm
    // packages' types are loaded once rather than once per function (~12 s instead of ~36 s).
    const byMap = Map.groupBy(functions, (fn) => fn.importMap ?? "");
    let fetched = false;
    for (const [importMap, group] of byMap) {
      const flags = mapFlags(importMap && join(group[0].name, importMap));
      const { ok, output } = await deno(["check", ...flags, ...group.map((fn) => join(fn.name, fn.entrypoint))], scratch);
      assert(ok, `deno check of the upload sets of ${group.map((fn) => fn.name)} failed:\n${output}`);
      fetched ||= /Download https?:\/\//.test(output);
    }
    assert(fetched, "expected the npm packages to be downloaded from the registry into the fresh DENO_DIR");
    for (const [name, folder] of folders) assert(!existsSync(join(folder, "node_modules")), `${name}: deno made a node_modules`);
    console.log(`  ${functions.length} upload sets staged and checked in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  },
});

Deno.test({
  name: "process-event runs from its upload set alone: preflight, a server emit in the JSON key form, CORS on errors",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const fn = functions.find((f) => f.name === "process-event")!;
    const folder = folders.get(fn.name) ?? stage(fn);
    const secretKey = "sb_secret_deploy_test_key";
    const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...mapFlags(fn.importMap), "--allow-net", "--allow-env", "--allow-read", fn.entrypoint],
      cwd: folder,
      clearEnv: true, // only what a hosted function is given
      env: {
        DENO_DIR: denoDir, PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1", PORT: String(port), ...registry,
        SUPABASE_DB_URL: databaseUrl!, SUPABASE_URL: "http://127.0.0.1:9", // no auth server: JWKS unused here
        SUPABASE_SECRET_KEYS: JSON.stringify({ default: secretKey }),
        SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: "sb_publishable_deploy_test" }),
      },
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    const sql = postgres(databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      const url = `http://127.0.0.1:${port}/`;
      let preflight: Response | undefined;
      for (let i = 0; !preflight; i++) {
        preflight = await fetch(url, { method: "OPTIONS", headers: { origin: "https://shop.example", "access-control-request-method": "POST" } })
          .catch(async () => {
            if (i > 400) throw new Error("process-event did not start from its upload set");
            await new Promise((r) => setTimeout(r, 50));
            return undefined;
          });
      }
      await preflight.body?.cancel();
      assert(preflight.status === 204, `preflight answered ${preflight.status}`);
      assert(preflight.headers.get("access-control-allow-origin") === "*", "preflight without access-control-allow-origin");
      assert(/apikey/.test(preflight.headers.get("access-control-allow-headers") ?? ""), "preflight does not allow the apikey header");

      const aggregateId = crypto.randomUUID();
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", apikey: secretKey, authorization: `Bearer ${secretKey}` },
        body: JSON.stringify({ event_type: "deploy.checked", aggregate_type: "order", aggregate_id: aggregateId, payload: {} }),
      });
      const body = await res.json();
      assert(res.status === 201 && body.status === "completed", `expected 201 completed, got ${res.status} ${JSON.stringify(body)}`);
      const [row] = await sql`select status from feyxa.events_log where id = ${body.event_id}::uuid and aggregate_id = ${aggregateId}::uuid`;
      assert(row?.status === "completed", `the event is not stored as completed: ${JSON.stringify(row)}`);

      const refused = await fetch(url, { method: "POST", headers: { "content-type": "application/json", apikey: "sb_secret_not_ours" }, body: "{}" });
      await refused.body?.cancel();
      assert(refused.status === 401, `an unknown secret key got ${refused.status}`);
      assert(refused.headers.get("access-control-allow-origin") === "*", "a 401 carries no CORS header");
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await sql.end();
    }
  },
});

addEventListener("unload", () => Deno.removeSync(scratch, { recursive: true }));
