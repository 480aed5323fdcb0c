/**
 * The shape of the tree, held by its imports: the bus (src/bus) is a layer that imports
 * nothing of the application built on it, of the Node runtime (src/local) or of any
 * runtime; everything outside it enters it through its declared entries only
 * (src/bus/exports.json), and a page only for types or the vocabulary; the marketplace
 * imports the bus and never the local runtime; and no module of src/ or web/ reaches itself
 * through its imports (a cycle is two modules that cannot be understood, or loaded, one
 * without the other).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(new URL("../", import.meta.url).pathname);
/** What the runtime-agnostic bus may import from npm: no module that only Node or Deno has. */
const BUS_PACKAGES = new Set(["postgres", "zod", "jose", "@opentelemetry/api"]);

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist") return [];
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Every module a file names: static imports and re-exports (types included), dynamic imports. */
function specifiers(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  const found = [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm)];
  return found.map((m) => m[1] ?? m[2] ?? m[3]);
}

const local = (file: string, spec: string) => relative(root, resolve(root, dirname(file), spec));
const files = [...sources("src"), ...sources("web")];
const graph = new Map(files.map((f) => [f, specifiers(f).filter((s) => s.startsWith(".")).map((s) => local(f, s))]));

/**
 * The bus's entries, declared once (src/bus/exports.json: the `exports` of the bus's package
 * to be): ".", the bus in a process; "./functions", its HTTP functions; "./testing", the
 * in-memory bus; "./vocabulary", the statuses (imports nothing: a page may load it).
 */
const BUS_EXPORTS: Record<string, string> = JSON.parse(readFileSync(join(root, "src/bus/exports.json"), "utf8"));
const BUS_ENTRIES = new Set(Object.values(BUS_EXPORTS).map((path) => join("src/bus", path)));
/** Every file that is not the bus nor its tests: the app, the runtimes' adapters, the pages, the bench, the scripts. */
const outsiders = ["src", "supabase/functions", "bench", "web", "scripts"].flatMap(sources).filter((f) => !f.startsWith("src/bus/"));
const busImports = (file: string) => specifiers(file).filter((s) => s.startsWith(".")).map((s) => local(file, s)).filter((t) => t.startsWith("src/bus/"));

describe("the tree's layers", () => {
  it("the bus imports only itself and its few npm packages: no application, no src/local, no runtime", () => {
    const outside = files.filter((f) => f.startsWith("src/bus/")).flatMap((f) =>
      specifiers(f)
        .filter((s) => (s.startsWith(".") ? !local(f, s).startsWith("src/bus/") : !BUS_PACKAGES.has(s.replace(/^npm:/, "").replace(/(?<=.)@.*$/, ""))))
        .map((s) => `${f} imports ${s}`));
    expect(outside).toEqual([]);
  });

  it("outside the bus, every import of it goes through one of its declared entries", () => {
    expect([...BUS_ENTRIES].filter((entry) => !existsSync(join(root, entry)))).toEqual([]);
    const wrong = outsiders.flatMap((f) => busImports(f).filter((t) => !BUS_ENTRIES.has(t)).map((t) => `${f} imports ${t}`));
    expect(wrong).toEqual([]);
  });

  it("a page takes only types from the bus, and its vocabulary: nothing of the server is bundled", () => {
    const vocabulary = join("src/bus", BUS_EXPORTS["./vocabulary"]);
    expect(specifiers(vocabulary), `${vocabulary} is loaded by pages: it imports nothing`).toEqual([]);
    const loaded = outsiders.filter((f) => f.startsWith("web/")).flatMap((f) => {
      const text = readFileSync(join(root, f), "utf8");
      return [...text.matchAll(/(?:^|[\s;])(import|export)(\s+type)?\s[^;]*?\sfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm)]
        .filter((m) => !m[2] && (m[3] ?? m[4]).startsWith("."))
        .map((m) => local(f, m[3] ?? m[4]))
        .filter((t) => t.startsWith("src/bus/") && t !== vocabulary)
        .map((t) => `${f} loads ${t}`);
    });
    expect(loaded).toEqual([]);
  });

  it("the marketplace imports the bus, never the local runtime", () => {
    const wrong = files.filter((f) => f.startsWith("src/marketplace/")).flatMap((f) =>
      (graph.get(f) ?? []).filter((t) => t.startsWith("src/local/")).map((t) => `${f} imports ${t}`));
    expect(wrong).toEqual([]);
  });

  it("only the bus writes the bus's tables: no SQL outside src/bus inserts, updates or deletes in feyxa", () => {
    const writers = files.filter((f) => !f.startsWith("src/bus/") && f.startsWith("src/"))
      .filter((f) => /\b(insert\s+into|update|delete\s+from)\s+feyxa\./i.test(readFileSync(join(root, f), "utf8")));
    expect(writers).toEqual([]);
  });

  it("no import cycle in src/ or web/", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" → "));
        return;
      }
      state.set(file, "open");
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
