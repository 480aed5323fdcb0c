/**
 * docs/bus-schema.md's "The files" section is generated from supabase/schemas/
 * (scripts/gen-schema-doc.ts): this fails when it is not what `npm run gen:schema-doc`
 * would write now, so the page never describes a schema that is gone.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOC, expectedDoc } from "../../scripts/gen-schema-doc.ts";
import { schemaFiles, SUPABASE_DIR } from "../../src/local/schemas.ts";

describe("docs/bus-schema.md", () => {
  it("describes supabase/schemas/ as it is (npm run gen:schema-doc)", async () => {
    expect(readFileSync(DOC, "utf8")).toBe(await expectedDoc());
  });

  it("has a section for every schema file, each opening with a header", async () => {
    const page = readFileSync(DOC, "utf8");
    for (const file of await schemaFiles()) {
      expect(page).toContain(`### \`${file.slice(SUPABASE_DIR.length - "supabase/".length)}\``);
      expect(readFileSync(file, "utf8"), `${file} opens with a comment`).toMatch(/^-- \S/);
    }
  });
});
