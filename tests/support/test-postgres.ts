/**
 * The test suite's PostgreSQL: DATABASE_URL when set, else a throw-away embedded one on
 * a free port. A template database is migrated once; each test file clones it (a
 * CREATE DATABASE ... TEMPLATE takes a few tens of milliseconds), so tests never see
 * each other's rows.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { migrate } from "../../src/local/migrate.ts";
import { startEmbeddedPostgres } from "../../src/local/postgres.ts";

export interface TestPostgres {
  /** A URL to the server's maintenance database, for CREATE/DROP DATABASE. */
  adminUrl: string;
  template: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A temporary folder the postgres user can enter too (when the suite runs as root). */
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "feyxa-test-"));
  await chmod(dir, 0o755);
  return dir;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** @param settings extra server settings for the embedded server (ignored with DATABASE_URL). */
export async function startTestPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  const scratch = process.env.DATABASE_URL ? undefined : await scratchDir();
  const server = scratch
    ? await startEmbeddedPostgres({ dataDir: join(scratch, "pg"), port: await freePort(), persistent: false, settings })
    : { url: process.env.DATABASE_URL!, stop: async () => {} };
  const template = `feyxa_template_${process.pid}`;
  const admin = postgres(server.url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${template}`);
  await admin.unsafe(`create database ${template}`);
  await admin.end();
  const templateSql = postgres(withDatabase(server.url, template), { max: 1, onnotice: () => {} });
  await migrate(templateSql);
  await templateSql.end();
  return {
    adminUrl: server.url,
    template,
    async stop() {
      const sql = postgres(server.url, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${template} with (force)`).catch(() => {});
      await sql.end();
      await server.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** A fresh, migrated database cloned from the template. */
export async function cloneDatabase(adminUrl: string, template: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `feyxa_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${template}`);
  await admin.end();
  return {
    url: withDatabase(adminUrl, name),
    async drop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}
