/**
 * A hosted project in miniature, for the end-to-end tier: Debian's PostgreSQL 15 preloading
 * pg_net and pg_cron (built from ../shared/vendor by .ci/run), one database shaped like a
 * hosted project's with both extensions enabled as Supabase enables them
 * (src/local/supabase-shape-extensions.sql), migrated as postgres by the real Supabase CLI
 * (`supabase db push --db-url`, the path a project is deployed with); and the Edge Functions
 * served by Deno from their real entrypoints, configured as Supabase configures them
 * (SUPABASE_DB_URL as postgres, SUPABASE_SECRET_KEYS as a JSON dictionary), behind a
 * loopback router that plays the platform's `/functions/v1/<name>` gateway.
 *
 * Deviations from a hosted project: pg_cron runs its jobs in background workers
 * (cron.use_background_workers) instead of libpq sessions to localhost, which a hosted
 * project trusts in pg_hba.conf and this cluster does not; the database is named `feyxa_e2e`,
 * not `postgres`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import postgres from "postgres";
import { asMigrator, createProjectDatabase, shapeLikeHosted, withDatabase } from "../../src/local/supabase-shape.ts";
import type { Sql } from "../../src/bus/types.ts";
import { dbPush } from "../support/supabase-cli.ts";
import { freePort } from "../support/test-postgres.ts";
import { DEBIAN_PG15_BIN, hasSystemPostgres, startSystemPostgres } from "../support/system-postgres.ts";

export const PG15_LIB = "/usr/lib/postgresql/15/lib";
const DATABASE = "feyxa_e2e";
const ROOT = new URL("../../", import.meta.url).pathname;
const DENO = new URL("../../node_modules/.bin/deno", import.meta.url).pathname;
/** The project's secret key, as the platform hands it to functions and as Vault keeps it. */
export const SECRET_KEY = `sb_secret_e2e_${crypto.randomUUID().replaceAll("-", "")}`;

/** Why this machine cannot run the tier, or undefined when it can. */
export function whyNotRunnable(): string | undefined {
  if (!hasSystemPostgres(DEBIAN_PG15_BIN)) return `Debian's PostgreSQL 15 is not installed (${DEBIAN_PG15_BIN})`;
  const missing = ["pg_net.so", "pg_cron.so"].filter((lib) => !existsSync(`${PG15_LIB}/${lib}`));
  if (missing.length > 0) return `${missing.join(", ")} not in ${PG15_LIB}: build them as root with ../shared/vendor/build-extensions.sh (.ci/run does)`;
  if (!existsSync(`${PG15_LIB}/plpgsql_check.so`)) return `plpgsql_check is not installed for PostgreSQL 15 (Debian's postgresql-15-plpgsql-check; .ci/run installs it)`;
  return undefined;
}

/** One request the gateway passed to a function, and its answer. */
export interface Call {
  name: string;
  status: number;
  request: unknown;
  response: unknown;
  authorized: boolean;
}

export interface HostedProject {
  /** As postgres, like the functions' SUPABASE_DB_URL. */
  sql: Sql;
  /** That connection's URL. */
  url: string;
  /** As supabase_admin: to look into pg_net's and pg_cron's tables. */
  admin: Sql;
  functionsUrl: string;
  calls: Call[];
  stop(): Promise<void>;
}

/**
 * @param functions the functions to serve, by name;
 * @param options.entrypoints where a function's entrypoint is when not supabase/functions/<name>/index.ts
 * (relative to the repository: the bench serves its own, bench/functions/); options.secrets:
 * more of the functions' environment, as project secrets set it.
 */
export async function startHostedProject(
  functions: string[],
  options: { entrypoints?: Record<string, string>; secrets?: Record<string, string> } = {},
): Promise<HostedProject> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const cluster = await startSystemPostgres(await freePort(), {
      shared_preload_libraries: "pg_net,pg_cron",
      "pg_net.database_name": DATABASE,
      "cron.database_name": DATABASE,
      "cron.use_background_workers": "on",
      max_worker_processes: "20",
    });
    stops.push(() => cluster.stop());
    // Both workers look for the database from the start and retry every second until it exists.
    await createProjectDatabase(cluster.superuserUrl, DATABASE);
    const superuserUrl = withDatabase(cluster.superuserUrl, DATABASE);
    await shapeLikeHosted(superuserUrl, DATABASE, { extensions: true });
    const url = asMigrator(superuserUrl);
    const sql = postgres(url, { max: 4, onnotice: () => {} });
    const admin = postgres(superuserUrl, { max: 2, onnotice: () => {} });
    stops.push(() => sql.end({ timeout: 5 }), () => admin.end({ timeout: 5 }));
    await dbPush(url);

    const ports: Record<string, number> = {};
    for (const name of functions) {
      ports[name] = await freePort();
      const child = serveFunction(options.entrypoints?.[name] ?? `supabase/functions/${name}/index.ts`, url, ports[name], options.secrets);
      stops.push(() => stopChild(child));
    }
    const calls: Call[] = [];
    const gateway = await startGateway(ports, calls);
    stops.push(() => new Promise((resolve) => gateway.server.close(resolve)));
    await Promise.all(functions.map((name) => waitUntilServing(ports[name], name)));

    // What docs/deploy.md asks of a project: the functions' URL and the Vault key.
    const functionsUrl = `http://127.0.0.1:${gateway.port}/functions/v1`;
    await sql`update feyxa.event_bus_settings set functions_url = ${functionsUrl}`;
    await sql`select vault.create_secret(${SECRET_KEY}, 'feyxa_service_key', 'Feyxa: the key pg_net and pg_cron call the functions with')`;
    return { sql, url, admin, functionsUrl, calls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function serveFunction(entrypoint: string, databaseUrl: string, port: number, secrets: Record<string, string> = {}): ChildProcess {
  const child = spawn(DENO, ["run", "--allow-net", "--allow-env", "--allow-read", entrypoint], {
    cwd: ROOT,
    // Only what the platform provides (and what Deno itself needs to find its cache).
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}), NO_COLOR: "1",
      SUPABASE_DB_URL: databaseUrl, PORT: String(port),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: "sb_publishable_e2e" }),
      // Set as a project secret would be: the tests' receivers are on loopback (docs/security.md, SSRF).
      FEYXA_OUTBOUND_ALLOW: "127.0.0.1",
      ...secrets,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

async function waitUntilServing(port: number, name: string): Promise<void> {
  const deadline = Date.now() + 60_000; // a cold Deno cache type-strips and loads the npm packages
  for (;;) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/${name}`, { method: "OPTIONS" })).body?.cancel();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** `/functions/v1/<name>…` → the function's own server at `/<name>…`, the path a hosted function sees. */
async function startGateway(ports: Record<string, number>, calls: Call[]): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    const match = /^\/functions\/v1\/([a-z0-9_-]+)(.*)$/.exec(req.url ?? "");
    const port = match && ports[match[1]];
    if (!match || !port) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => k !== "host" && typeof v === "string")) as Record<string, string>;
    try {
      const answer = await fetch(`http://127.0.0.1:${port}/${match[1]}${match[2]}`, { method: req.method, headers, body: body.length > 0 ? body : undefined });
      const text = await answer.text();
      calls.push({
        name: match[1], status: answer.status, request: parse(body.toString()), response: parse(text),
        authorized: headers.apikey === SECRET_KEY && headers.authorization === `Bearer ${SECRET_KEY}`,
      });
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" }).end(text);
    } catch (error) {
      res.writeHead(502).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
