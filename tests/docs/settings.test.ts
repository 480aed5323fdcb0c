/**
 * docs/settings.md's tables are generated from the declarations (scripts/gen-settings.ts):
 * this fails when they are not what `npm run gen:settings` would write now, and when the
 * code (src/, supabase/functions/, scripts/; not the tests nor the bench) names an
 * environment variable that no list declares, so a setting cannot be added, or renamed,
 * without its line in the table.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DOC, expectedDoc } from "../../scripts/gen-settings.ts";
import { BUS_SETTINGS } from "../../src/bus/index.ts";
import { MARKETPLACE_SETTINGS } from "../../src/marketplace/settings.ts";

const root = new URL("../../", import.meta.url).pathname;
const declared = [...Object.keys(BUS_SETTINGS), ...Object.keys(MARKETPLACE_SETTINGS)];

/** Names the code spells that are no setting of the bus or its app, each with why. */
const NOT_SETTINGS: Record<string, string> = {
  SUPABASE_DIR: "a constant of src/local/schemas.ts (the supabase/ folder)",
  FEYXA_TEST_PG: "the test tier's switch (docs/testing.md), set by scripts/test-pg15.ts for the tests",
  NPM_CONFIG_REGISTRY: "npm's own, passed on to Deno by scripts/deno-test.ts",
  FORCE_COLOR: "Node's own, passed on to the test runs by scripts/test.ts",
};

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return files(path);
    return /\.(tsx?|sql)$/.test(name) ? [path] : [];
  });
}

/** Every variable name a file spells: the families the brief of issue 27 named, and any read of an environment. */
function namesIn(text: string): string[] {
  const spelled = text.matchAll(/\b(?:FEYXA|SUPABASE|DATABASE|STRIPE|WEBHOOK|RESEND|EMAIL|OTEL)_[A-Z0-9_]*/g);
  const read = text.matchAll(/(?:process\.env|Deno\.env\.get\(|\benv|[sS]etting\([^,()]*,)\s*(?:\.|\[\s*["'`]|["'])([A-Z][A-Z0-9_]*)/g);
  return [...[...spelled].map((m) => m[0]), ...[...read].map((m) => m[1])];
}

/** Declared: the name, a member of a declared family (WEBHOOK_SECRET_ACME), or a prefix of declared names (FEYXA_DB_*). */
function isDeclared(name: string): boolean {
  return declared.some((d) => d === name
    || (d.includes("<") && name.startsWith(d.slice(0, d.indexOf("<"))))
    || (name.endsWith("_") && d.startsWith(name)));
}

describe("docs/settings.md", () => {
  it("shows the settings and the schedules as they are declared (npm run gen:settings)", () => {
    expect(readFileSync(DOC, "utf8")).toBe(expectedDoc());
  });

  it("lists every variable the code names: src/, supabase/functions/, scripts/", () => {
    const undeclared = ["src", "supabase/functions", "scripts"].flatMap(files).flatMap((file) =>
      [...new Set(namesIn(readFileSync(join(root, file), "utf8")))]
        .filter((name) => !isDeclared(name) && !(name in NOT_SETTINGS))
        .map((name) => `${file}: ${name}`));
    expect(undeclared).toEqual([]);
  });

  it("finds what it looks for, so that the list above is not empty by mistake", () => {
    expect(namesIn(`const a = process.env.FEYXA_X; env["FEYXA_Y"]; Deno.env.get("PORT"); busSetting(env, "FEYXA_Z"); // DATABASE_URL`).sort())
      .toEqual(["DATABASE_URL", "FEYXA_X", "FEYXA_X", "FEYXA_Y", "FEYXA_Y", "FEYXA_Z", "FEYXA_Z", "PORT"]);
    expect(isDeclared("WEBHOOK_SECRET_ACME") && isDeclared("FEYXA_DRAIN_") && isDeclared("FEYXA_LEASE_MS")).toBe(true);
    expect(isDeclared("FEYXA_LEASE_TIME") || isDeclared("FEYXA_RETRY_INTERVAL_MS")).toBe(false);
  });

  it("declares each name once: the bus's list and the marketplace's share none", () => {
    expect(Object.keys(BUS_SETTINGS).filter((name) => name in MARKETPLACE_SETTINGS)).toEqual([]);
  });
});
