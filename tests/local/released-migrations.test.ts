/**
 * Released migrations are append-only: a hosted project that applied one will never apply
 * it again, so an edit would leave that project and a fresh one with different schemas.
 * supabase/released-migrations.sha256 (sha256sum's format) lists every released file and
 * its checksum; a change to any of them fails here. New migrations are added beside them,
 * and join the list at the next release (docs/deploy.md, "Releasing").
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const released = readFileSync(`${root}supabase/released-migrations.sha256`, "utf8")
  .split("\n").filter(Boolean)
  .map((line) => {
    const [sha256, file] = line.split(/\s+/);
    return { sha256, file };
  });

describe("released migrations", () => {
  it("are listed", () => expect(released.length).toBeGreaterThan(0));

  it.each(released)("$file is unchanged since its release", ({ sha256, file }) => {
    const path = `${root}supabase/migrations/${file}`;
    expect(existsSync(path), `${file} was released and must not be removed`).toBe(true);
    const actual = createHash("sha256").update(readFileSync(path)).digest("hex");
    expect(actual, `${file} was released: add a new migration instead of editing it`).toBe(sha256);
  });
});
