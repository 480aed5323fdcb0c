/**
 * The Deno entrypoints and config.toml's [functions.*] blocks are generated from the one
 * list of functions (scripts/gen-functions.ts): this fails when the checked-in files are
 * not what `npm run gen:functions` would write, so a function added to (or removed from)
 * the list cannot ship without its Supabase folder, or leave one behind.
 */
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectedFiles, GENERATED, outOfDate } from "../../scripts/gen-functions.ts";
import { functions } from "../../src/marketplace/functions/index.ts";

const root = new URL("../../", import.meta.url).pathname;

describe("npm run gen:functions", () => {
  it("has written every generated file as it would write it now", async () => {
    expect(await outOfDate(root)).toEqual([]);
  });

  it("gives every listed function, and only those, a Supabase folder and a config.toml block", async () => {
    const folders = readdirSync(`${root}supabase/functions`, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("_")).map((d) => d.name).sort();
    expect(folders).toEqual(functions.map((fn) => fn.name).sort());
    const config = (await expectedFiles(root)).get("supabase/config.toml")!;
    for (const fn of functions) expect(config).toContain(`[functions.${fn.name}]`);
  });

  it("marks what it writes as generated", async () => {
    for (const text of (await expectedFiles(root)).values()) expect(text).toContain(GENERATED);
  });

  it("lists each function once", () => {
    const names = functions.map((fn) => fn.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
