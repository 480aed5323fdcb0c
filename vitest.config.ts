import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * Two projects. "database": the files that need a PostgreSQL, which the global setup
 * starts once and shapes like a hosted project (tests/support/global-setup.ts), each file
 * then cloning its own database from the template. "no database": the rest, which run
 * without starting one (`npx vitest run tests/bus/deadlines.test.ts` starts no server). A
 * file is in the first when it names what needs the database: the support modules that
 * clone or start one, or inject() of the server's address.
 */
const root = new URL(".", import.meta.url).pathname;
const NEEDS_DATABASE = /support\/(database|test-postgres|browser|monitor|marketplace|system-postgres)\.ts|hosted-project\.ts|\binject\(/;

function testFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join("tests", "deno") ? [] : testFiles(path);
    return entry.name.endsWith(".test.ts") ? [relative(root, join(root, path))] : [];
  });
}

const files = testFiles("tests");
const withDatabase = files.filter((f) => NEEDS_DATABASE.test(readFileSync(join(root, f), "utf8")));
const withoutDatabase = files.filter((f) => !withDatabase.includes(f));

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most of a file's time is spent waiting (on the database, a child process, a
    // browser), so more files run at once than there are cores: on two cores, three.
    maxWorkers: 3,
    projects: [
      { extends: true, test: { name: "no database", include: withoutDatabase } },
      { extends: true, test: { name: "database", include: withDatabase, globalSetup: ["tests/support/global-setup.ts"] } },
    ],
  },
});
