/**
 * The real Supabase CLI (the npm package `supabase`, pinned in package.json), for what it
 * does without Docker: `db push` and `db lint` against a database URL, as users deploy and
 * check a project. Local servers have no TLS, hence sslmode=disable.
 */
import { execFile } from "node:child_process";
import { dirname } from "node:path";
import { promisify } from "node:util";
import { SUPABASE_DIR } from "../../src/local/schemas.ts";

const CLI = new URL("../../node_modules/.bin/supabase", import.meta.url).pathname;
const run = promisify(execFile);

const withoutTls = (url: string) => {
  const u = new URL(url);
  u.searchParams.set("sslmode", "disable");
  return u.toString();
};

/** Runs the CLI in the project whose supabase/ folder is `supabaseDir`; its output, or its failure with the output. */
async function cli(args: string[], supabaseDir: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(CLI, [...args, "--workdir", dirname(supabaseDir)], {
      env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
      maxBuffer: 16 << 20,
      timeout: 120_000,
    });
    return `${stdout}${stderr}`;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`supabase ${args.slice(0, 2).join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/** `supabase db push --db-url`: every migration of `supabaseDir`/migrations not yet applied, as the URL's role. */
export function dbPush(url: string, supabaseDir = SUPABASE_DIR): Promise<string> {
  return cli(["db", "push", "--db-url", withoutTls(url), "--include-all", "--yes"], supabaseDir);
}

export interface LintIssue {
  level: string;
  message: string;
  function?: string;
}

/**
 * `supabase db lint --db-url --level <level>` over `schemas`: plpgsql_check's findings in
 * every PL/pgSQL function, as JSON. plpgsql_check must be installed in that database.
 */
export async function dbLint(url: string, schemas: string[], level = "warning"): Promise<{ function: string; issues: LintIssue[] }[]> {
  const output = await cli(["db", "lint", "--db-url", withoutTls(url), "--level", level, "--schema", schemas.join(","), "-o", "json"], SUPABASE_DIR);
  const json = output.slice(output.indexOf("["), output.lastIndexOf("]") + 1);
  return json ? JSON.parse(json) : [];
}
