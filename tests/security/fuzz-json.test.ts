/**
 * Hostile JSON in every position of every function's body (src/bus/storable-json.ts), sent
 * by the caller that gets past the function's door: NUL in each string and each key,
 * nesting 10,000 deep, numbers that would be stored as null, rounded or without their
 * sign (1e400, -1e400, 12345678901234567890123, 2^53 + 1, 1e-400, -0), arrays and objects of
 * as many members as fit under the function's body limit, 100,000 keys past it, thousands
 * of unknown keys. Each a 4xx naming the field, no row stored anywhere in `public`.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { uuid } from "../support/bus.ts";
import { contractProblem, fuzzWorld, type Route, rowCounts } from "../support/fuzz.ts";

const { sql } = await useDatabase();
const world = await fuzzWorld(sql);

type Position = { path: (string | number)[]; isKey: boolean; value: unknown };
/** Every value (and every object key) of a JSON value, with its path, found without recursion. */
function positions(root: unknown): Position[] {
  const out: Position[] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (path.length > 0) out.push({ path, isKey: false, value });
    if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }));
    else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        out.push({ path: [...path, k], isKey: true, value: v });
        stack.push({ value: v, path: [...path, k] });
      }
    }
  }
  return out;
}

/** The body with the value at `path` replaced by raw JSON text (or its key renamed to `key`). */
function bodyWith(body: Record<string, unknown>, path: (string | number)[], raw: string, key?: string): string {
  const copy = structuredClone(body);
  let parent: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  const marker = `@@${uuid()}@@`;
  if (key === undefined) parent[last] = marker;
  else {
    // Rename, keeping the key's place among its siblings.
    const entries = Object.entries(parent).map(([k, v]) => [k === last ? marker : k, v]);
    for (const k of Object.keys(parent)) delete parent[k];
    for (const [k, v] of entries) parent[k as string] = v;
  }
  return JSON.stringify(copy).replace(`"${marker}"`, key === undefined ? raw : JSON.stringify(key));
}

/** For refusals a schema makes of a whole value: the answer names the field, a member of it, or the field holding it. */
const around = (field: string) => (named: string) => named === field || field.startsWith(`${named}.`) || named.startsWith(`${field}.`);
interface Hostile { what: string; route: Route; field: string | ((named: string) => boolean); body: string; status?: number }

const many = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":${i}`).join(",")}}`;
const hostile = hostileBodies();

function hostileBodies(): Hostile[] {
  const out: Hostile[] = [];
  const fieldOf = (path: (string | number)[]) => path.map(String).join(".");
  for (const route of world.routes.filter((r) => r.body)) {
    const name = `${route.fn}${route.sub ?? ""}`;
    const body = route.body!();
    // Room left under the body limit, in bytes, for the member put in place of one value.
    const room = route.maxBytes! - JSON.stringify(body).length - 200;
    const depth = Math.min(10_000, Math.floor(room / 2));
    const members = Math.min(20_000, Math.floor(room / 2));
    const keys = Math.min(20_000, Math.floor(room / 12));
    for (const { path, isKey, value } of positions(body)) {
      const field = fieldOf(path);
      const free = route.free?.some((f) => field === f || field.startsWith(`${f}.`)) ?? false;
      const at = (what: string, raw: string, expected: Hostile["field"] = field) => out.push({ what: `${name} ${field}: ${what}`, route, field: expected, body: bodyWith(body, path, raw) });
      if (isKey) {
        const key = `${path[path.length - 1]}\u0000`;
        out.push({ what: `${name} key ${field}: NUL`, route, field: fieldOf([...path.slice(0, -1), `${key.slice(0, -1)}\\u0000`]), body: bodyWith(body, path, "", key) });
        continue;
      }
      if (typeof value === "string") {
        at("NUL at the end", JSON.stringify(`${value}\u0000`));
        at("NUL alone", JSON.stringify("\u0000"));
      }
      at(`nested ${depth} deep in arrays`, `${"[".repeat(depth)}${"]".repeat(depth)}`, around(field));
      at(`nested ${Math.floor(depth / 3)} deep in objects`, `${'{"a":'.repeat(Math.floor(room / 6 / 3))}1${"}".repeat(Math.floor(room / 6 / 3))}`, around(field));
      for (const n of ["1e400", "-1e400", "12345678901234567890123", "9007199254740993", "1e-400", "-0", "0.1000000000000000000001"]) at(n, n);
      if (!free) {
        // Huge, but well-formed and under the size limits: refused by the schema, naming the field.
        at(`an array of ${members}`, `[${new Array(members).fill(0).join(",")}]`, around(field));
        at(`an object of ${keys} keys`, `{${Array.from({ length: keys }, (_, i) => `"k${i}":0`).join(",")}}`, around(field));
      }
    }
    // 100,000 keys: past every limit, a 413 naming the body before it is parsed.
    out.push({ what: `${name} 100,000 keys`, route, field: "body", status: 413, body: JSON.stringify(body).replace(/}$/, `,"many":${many}}`) });
    if (route.strict) {
      // As many unknown top-level keys as fit: refused naming the first, in a short answer.
      const unknown = Math.floor(room / 16);
      const extra = Array.from({ length: unknown }, (_, i) => `"extra_${i}":0`).join(",");
      out.push({ what: `${name} ${unknown} unknown keys`, route, field: "extra_0", body: JSON.stringify(body).replace(/}$/, `,${extra}}`) });
    }
  }
  return out;
}

describe("fuzzing every function with JSON PostgreSQL could not keep", () => {
  it("NUL in every string and key, nesting 10,000 deep, non-finite, unsafe and inexact numbers, huge arrays and key counts: a 4xx naming the field each, nothing stored", async () => {
    const before = await rowCounts(sql);
    const failures: string[] = [];
    const requests = hostile;
    expect(requests.length).toBeGreaterThan(500);
    for (const { what, route, field, body, status = 400 } of requests) {
      const res = await world.send(route, route.reaches, { body });
      const text = await res.text();
      const answer = JSON.parse(text);
      const named = typeof answer.field === "string" && (typeof field === "string" ? answer.field === field : field(answer.field));
      if (res.status !== status || !named || contractProblem(res.status, text) || text.length > 2_000) failures.push(`${res.status} ${what}: ${text.slice(0, 160)}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await rowCounts(sql)).toBe(before);
  }, 60_000);

  it("the same bodies from the other callers: no 5xx, a JSON error each, nothing stored", async () => {
    const before = await rowCounts(sql);
    const failures: string[] = [];
    for (const { what, route, body } of hostile.filter((_, i) => i % 4 === 0)) {
      for (const caller of (["server", "anon", "stranger"] as const).filter((c) => c !== route.reaches)) {
        const res = await world.send(route, caller, { body });
        const problem = contractProblem(res.status, await res.text());
        if (problem || res.status < 400) failures.push(`${caller} ${res.status} ${what}: ${problem ?? "accepted"}`);
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await rowCounts(sql)).toBe(before);
  }, 60_000);
});
