/**
 * Feyxa as it was at another commit (BENCH_BASE_REV, default a3983f3, the commit before flow
 * control), measured beside the working tree in the same rounds: that commit's migrations
 * (a second template on the same server), its Bus for the backlog, and its dispatcher CLI
 * bundled from its own sources. The commit is extracted with `git archive` into a temp dir
 * (kept for the next run), with a node_modules of symlinks to this checkout's packages, so
 * that its bundle cache (node_modules/.cache) is its own.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import type { BenchSystem } from "../systems/system.ts";
import type { BenchServer } from "./server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BASE_REV = process.env.BENCH_BASE_REV ?? "a3983f3";

/** The commit's tree in a temp dir, ready to import; extracted once per commit and checkout (its links point into this one). */
function extract(rev: string): string {
  const full = execFileSync("git", ["rev-parse", "--verify", `${rev}^{commit}`], { cwd: ROOT, encoding: "utf8" }).trim();
  const checkout = createHash("sha256").update(ROOT).digest("hex").slice(0, 8);
  const dir = join(tmpdir(), `feyxa-bench-rev-${full.slice(0, 12)}-${checkout}`);
  if (existsSync(join(dir, ".extracted"))) return dir;
  mkdirSync(dir, { recursive: true });
  execFileSync("sh", ["-c", `git archive ${full} | tar -x -C '${dir}'`], { cwd: ROOT });
  const modules = join(dir, "node_modules");
  mkdirSync(modules, { recursive: true });
  for (const name of readdirSync(join(ROOT, "node_modules"))) {
    if (name === ".cache" || existsSync(join(modules, name))) continue;
    symlinkSync(join(ROOT, "node_modules", name), join(modules, name));
  }
  writeFileSync(join(dir, ".extracted"), full);
  return dir;
}

export interface BaseRevision {
  rev: string;
  /** The commit's own bench system (bench/systems/feyxa.ts there), on its own template. */
  system(server: BenchServer): Promise<BenchSystem>;
  /** Drops the templates made on `server`. */
  dispose(server: BenchServer): Promise<void>;
}

export async function baseRevision(rev = BASE_REV): Promise<BaseRevision> {
  const dir = extract(rev);
  const from = (path: string) => import(join(dir, path));
  const { feyxa } = await from("bench/systems/feyxa.ts") as { feyxa: BenchSystem };
  const shape = await from("src/local/supabase-shape.ts");
  const { migrate } = await from("src/local/migrate.ts");
  const { syncRoutes } = await from("src/bus/route-sync.ts");
  const engines = await from("src/marketplace/engines/index.ts");
  const template = `feyxa_bench_rev_${rev.replace(/\W/g, "_").slice(0, 12)}`;
  const made = new Set<BenchServer>();
  return {
    rev,
    async system(server) {
      if (!made.has(server)) {
        // As tests/support/test-postgres.ts makes its template, with that commit's code.
        await shape.createProjectDatabase(server.adminUrl, template);
        await shape.shapeLikeHosted(server.adminUrl, template);
        const sql = postgres(shape.asMigrator(shape.withDatabase(server.adminUrl, template)), { max: 1, onnotice: () => {} });
        try {
          await migrate(sql);
          await syncRoutes(sql, engines.ROUTE_SOURCE, engines.engineHandlers());
        } finally {
          await sql.end();
        }
        made.add(server);
      }
      return {
        ...feyxa,
        name: `feyxa@${rev}`,
        drainOnly: true,
        tuning: `Feyxa at ${rev} (its migrations and dispatcher, extracted to ${dir}): ${feyxa.tuning}`,
        setup: (s: BenchServer) => feyxa.setup({ ...s, feyxaDatabase: () => s.cloneOf(template) }),
      };
    },
    async dispose(server) {
      if (!made.delete(server)) return;
      const sql = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${template} with (force)`).catch(() => {});
      await sql.end();
    },
  };
}
