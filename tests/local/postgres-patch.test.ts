/**
 * postgres.js 3.4.9 crashes the process when it writes to a connection whose socket has
 * closed: a small write is deferred with setImmediate, the socket closes meanwhile, and
 * `socket.write` on null throws where no caller can catch it (porsager/postgres#1066,
 * #1154, #1208; fixes proposed in #1168, #1176, #1209, none released). A database outage
 * took the gateway down this way once in CI. scripts/patch-postgres.ts, run by npm's
 * postinstall, guards the write as #1209 does: the query is refused with
 * CONNECTION_CLOSED (a 503 for the HTTP functions) and the process lives.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";

const db = await useDatabase();
const root = new URL("../../", import.meta.url).pathname;

describe("postgres.js, as npm install leaves it", () => {
  it("carries the closed-socket guard in each of its builds", () => {
    for (const build of ["src", "cjs/src", "cf/src"]) {
      expect(readFileSync(`${root}node_modules/postgres/${build}/connection.js`, "utf8"), build).toContain("feyxa: closed-socket guard");
    }
  });

  it("refuses a query on a connection whose backend died, instead of crashing the process", () => {
    const child = spawnSync(process.execPath, ["tests/local/support/closed-socket-write.mjs", db.url], { cwd: root, encoding: "utf8", timeout: 20_000 });
    expect(child.stderr).not.toContain("Cannot read properties of null");
    expect(child.status).toBe(0);
    const outcomes = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as string[];
    expect(outcomes[0]).toMatch(/CONNECTION_CLOSED|CONNECTION_DESTROYED|57P01|ECONNRESET/);
  });
});
