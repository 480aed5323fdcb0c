/**
 * docs/claims.md maps each reliability and security claim to the tests that hold it. This
 * keeps the map honest: every file it names exists, and every test name it quotes is still
 * in that file, so renaming or deleting a test fails here until the docs follow.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const page = readFileSync(`${root}docs/claims.md`, "utf8");
/** `tests/x.test.ts` "part of a test name" */
const reference = /`(tests\/[\w./-]+\.ts)` "([^"]+)"/g;
const references = [...page.matchAll(reference)].map(([, file, name]) => ({ file, name }));

describe("docs/claims.md", () => {
  it("names tests for its claims", () => {
    expect(references.length).toBeGreaterThan(40);
  });

  it.each(references)("$file has a test named with “$name”", ({ file, name }) => {
    expect(existsSync(`${root}${file}`), `${file} does not exist`).toBe(true);
    const source = readFileSync(`${root}${file}`, "utf8");
    expect(source.includes(name), `no test in ${file} is named with "${name}"`).toBe(true);
  });

  it("gives every claim row a test", () => {
    const rows = page.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| claim"));
    for (const row of rows) expect(row, "a claim row without a test").toMatch(reference);
  });
});
