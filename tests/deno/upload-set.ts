/**
 * What `supabase functions deploy` uploads for a function, reproduced from the CLI's own
 * rules (supabase/cli pkg/function/deploy.go and deno.go):
 *
 * - the function's entry in supabase/config.toml names its entrypoint and import map,
 *   both relative to supabase/; the CLI sends paths relative to the project root;
 * - the import map file itself (and, for a deno.json that only names an "importMap", that
 *   file too);
 * - every file reached from the entrypoint by a relative (or absolute) import, found by the
 *   CLI's regular expression over the source text, after the import map's prefixes are
 *   substituted; specifiers without an extension, URLs and npm: specifiers are not files;
 *   a file that does not exist is skipped with a warning, as the CLI does.
 *
 * Nothing else: no node_modules, no package.json, no deno.json but a named one, no lock.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, extname, join, normalize } from "node:path";

export interface DeployedFunction {
  name: string;
  /** Relative to the project root, e.g. supabase/functions/checkout/index.ts. */
  entrypoint: string;
  /** Relative to the project root; undefined when config.toml names none. */
  importMap?: string;
}

/** The [functions.<name>] tables of supabase/config.toml (only the keys the upload needs). */
export function deployedFunctions(root: string): DeployedFunction[] {
  const toml = readFileSync(join(root, "supabase/config.toml"), "utf8");
  const functions: DeployedFunction[] = [];
  let current: DeployedFunction | undefined;
  for (const line of toml.split("\n")) {
    const table = /^\s*\[(.+?)\]\s*(#.*)?$/.exec(line);
    if (table) {
      const name = /^functions\.("?)([\w-]+)\1$/.exec(table[1])?.[2];
      current = name ? { name, entrypoint: `supabase/functions/${name}/index.ts` } : undefined;
      if (current) functions.push(current);
      continue;
    }
    const pair = /^\s*(entrypoint|import_map)\s*=\s*"([^"]*)"/.exec(line);
    if (current && pair) {
      const path = normalize(join("supabase", pair[2])); // config.toml paths are relative to supabase/
      if (pair[1] === "entrypoint") current.entrypoint = path;
      else current.importMap = path;
    }
  }
  return functions;
}

// The CLI's pattern (pkg/function/deno.go importPathPattern): `import … from "x"`,
// `export … from "x"`, `import "x"` and `import("x")`, wherever they appear in the text.
const IMPORT_PATH = /(?:import|export)\s+(?:\{[^{}]+\}|.*?)\s*(?:from)?\s*['"](.*?)['"]|import\(\s*['"](.*?)['"]\)/gi;

interface ImportMap { imports?: Record<string, string>; importMap?: string }

/** The files the CLI uploads for one function, relative to the project root, sorted; and what it warned about. */
export function uploadSet(root: string, fn: DeployedFunction): { files: string[]; missing: string[] } {
  const files = new Set<string>();
  const imports: Record<string, string> = {};
  let mapPath = fn.importMap;
  while (mapPath) {
    files.add(mapPath);
    const map = JSON.parse(readFileSync(join(root, mapPath), "utf8")) as ImportMap;
    for (const [key, value] of Object.entries(map.imports ?? {})) imports[key] = hostPath(mapPath, value);
    // A deno.json that only refers to an import map: the CLI loads (and uploads) that one too.
    const isReference = /^deno\.jsonc?$/i.test(basename(mapPath)) && !map.imports && map.importMap;
    mapPath = isReference ? normalize(join(dirname(mapPath), map.importMap!)) : undefined;
  }
  const missing: string[] = [];
  const seen = new Set<string>();
  const queue = [normalize(fn.entrypoint)];
  while (queue.length > 0) {
    const current = queue.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    let text: string;
    try {
      text = readFileSync(join(root, current), "utf8");
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
      missing.push(current);
      continue;
    }
    files.add(current);
    for (const match of text.matchAll(IMPORT_PATH)) {
      let specifier = (match[1] || match[2] || "").trim();
      let substituted = false;
      for (const [key, value] of Object.entries(imports)) {
        if (specifier.startsWith(key)) {
          specifier = value + specifier.slice(key.length);
          substituted = true;
        }
      }
      if (extname(specifier) === "") continue; // URLs' hosts, directories, bare names
      const relative = specifier.startsWith("./") || specifier.startsWith("../");
      if (!relative && !specifier.startsWith("/")) continue; // npm:, jsr:, https: …
      queue.push(normalize(relative && !substituted ? join(dirname(current), specifier) : specifier));
    }
  }
  return { files: [...files].sort(), missing };
}

/** An import map value as the CLI rewrites it: relative paths become relative to the project root. */
function hostPath(mapPath: string, value: string): string {
  if (value.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(value)) return value;
  const resolved = join(dirname(mapPath), value) + (value.endsWith("/") ? "/" : "");
  return resolved.startsWith("/") ? resolved : `./${resolved}`;
}
