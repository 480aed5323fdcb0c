/**
 * Thousands of malformed requests at every route of every function (tests/support/fuzz.ts,
 * listed from createFunctions): wrong types, SQL and JSON-path injection strings in every
 * field and query parameter, random bytes, bodies past the limit, from the server, anon and
 * a signed-in stranger. None may answer 5xx, each refusal is a JSON error naming the field,
 * and none may leave a row anywhere in `public`. Hostile JSON in every position is
 * fuzz-json.test.ts; methods, content types, headers and paths fuzz-requests.test.ts; the
 * SQL functions the Data API exposes fuzz-sql.test.ts.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { CALLERS, type Caller, contractProblem, fuzzWorld, missingRoutes, rng, type Route, rowCounts } from "../support/fuzz.ts";

const { sql } = await useDatabase();
const world = await fuzzWorld(sql);

const NASTY: unknown[] = [
  "' or 1=1 --", "'; drop table feyxa.events_log; --", "\" or \"\"=\"", "$.payload ? (@ == 1)", "$..*", "lax $.a[*] ? (@ like_regex \".*\")",
  "{\"$ne\": null}", "%00", "\u0000", "\ud800", "a".repeat(10_000), "../../etc/passwd", "<script>alert(1)</script>", "NaN",
  -1, 0, 1e308, -1e308, 2 ** 63, 1.5, true, false, null, [], [1, "x"], {}, { a: { b: { c: [] } } }, "00000000-0000-0000-0000-00000000000g",
  "ORDER.CREATED", "order.", ".created", "order..created", "*", "order.*", "Infinity", "-0", "1e400", "\u202e", "\ufeff",
];

/** Whether a fuzzed value could still make a valid request (then the request is not sent). */
function stillValid(route: Route, field: string, value: unknown): boolean {
  if (route.free?.some((f) => field === f || field.startsWith(`${f}.`))) return true;
  if (route.fn === "retry-failed-events" && Number.isInteger(value) && (value as number) >= 1) return true; // limits are optional numbers
  if (route.fn === "checkout" && field === "attribution" && JSON.stringify(value) === "{}") return true; // no attribution at all
  if (!route.strict && field.startsWith("extra_")) return true;
  const text = typeof value === "string" && value.length > 0 && !/\u0000|[\ud800-\udfff]/.test(value);
  const freeText: Record<string, [string, number][]> = {
    "process-event": [["idempotency_key", 200]], automations: [["name", 120]], "event-monitor": [["error", 4000], ["reason", 500]], webhooks: [["type", 200], ["id", 200]],
  };
  if (text && freeText[route.fn]?.some(([f, max]) => f === field && (value as string).length <= max)) return true;
  if (value === null && ["process-event.idempotency_key", "process-event.tenant_id", "event-monitor.error"].includes(`${route.fn}.${field}`)) return true;
  return false;
}

function malformedRequests(seed: number, n: number): { what: string; route: Route; caller: Caller; options: Parameters<typeof world.send>[2] }[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const out: ReturnType<typeof malformedRequests> = [];
  while (out.length < n) {
    const route = pick(world.routes);
    const caller = random() < 0.5 ? route.reaches : pick(CALLERS);
    const what = `${caller} ${route.fn}${route.sub ?? ""}`;
    const kind = random();
    if (route.method === "GET") {
      // One query parameter broken (or an extra one added).
      const query: Record<string, string> = route.query!();
      const field = random() < 0.2 || Object.keys(query).length === 0 ? `extra_${Math.floor(random() * 9)}` : pick(Object.keys(query));
      const value = pick(NASTY);
      try {
        query[field] = typeof value === "string" ? value : JSON.stringify(value);
        out.push({ what: `${what} ?${field}=${query[field].slice(0, 30)}`, route, caller, options: { query: new URLSearchParams(query).toString() } });
      } catch {
        // a lone surrogate cannot be put in a URL at all
      }
    } else if (!route.body) {
      out.push({ what: `${what} any body`, route, caller, options: { body: JSON.stringify(pick(NASTY)) } });
    } else if (kind < 0.7) {
      // One field broken (or an extra one added): always invalid.
      const body = route.body();
      const field = random() < 0.15 ? `extra_${Math.floor(random() * 9)}` : pick(Object.keys(body));
      body[field] = pick(NASTY);
      if (stillValid(route, field, body[field])) continue;
      out.push({ what: `${what} ${field}=${JSON.stringify(body[field])?.slice(0, 40)}`, route, caller, options: { body: JSON.stringify(body) } });
    } else if (kind < 0.8) {
      const body = JSON.stringify(pick(NASTY.filter((v) => !(v && typeof v === "object" && !Array.isArray(v)))));
      out.push({ what: `${what} body ${body.slice(0, 30)}`, route, caller, options: { body } });
    } else if (kind < 0.9) {
      const bytes = new Uint8Array(1 + Math.floor(random() * 64)).map(() => Math.floor(random() * 256));
      bytes[0] = 0x7b; // "{" then garbage: never valid JSON
      out.push({ what: `${what} random bytes`, route, caller, options: { body: bytes, headers: { "content-type": "application/json" } } });
    } else {
      out.push({ what: `${what} huge body`, route, caller, options: { body: `{"x":"${"y".repeat(300_000)}"}` } });
    }
  }
  return out;
}

describe("fuzzing every function", () => {
  it("covers every function createFunctions serves", () => {
    expect(missingRoutes(world.functions, world.routes)).toEqual([]);
  });

  it("4,000 malformed requests, as the server, anon and a signed-in stranger: no 5xx, a JSON error each, no row left behind", async () => {
    const before = await rowCounts(sql);
    const failures: string[] = [];
    for (const { what, route, caller, options } of malformedRequests(20261123, 4000)) {
      const res = await world.send(route, caller, options);
      const text = await res.text();
      const problem = contractProblem(res.status, text) ?? (res.status < 400 && route.method === "POST" && route.reads !== "nothing" ? "accepted" : undefined);
      if (problem) failures.push(`${res.status} ${what}: ${problem}: ${text.slice(0, 120)}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await rowCounts(sql)).toBe(before);
  }, 60_000);
});
