/**
 * Thousands of malformed requests at every function: wrong types, huge bodies, invalid
 * UTF-8, SQL and JSON-path injection strings in every field and filter, wrong content
 * types and methods. None may answer 5xx, and none may leave a row behind.
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../src/engines/index.ts";
import { createDemoFunctions } from "../../src/functions/demo.ts";
import { createGateway } from "../../src/functions/gateway.ts";
import { serverFunctions, testFunctions } from "../support/auth.ts";
import { useDatabase } from "../support/database.ts";
import { testBus, uuid } from "../support/bus.ts";
import { openShop } from "../support/marketplace.ts";

const { sql } = await useDatabase();
const demo = createDemoFunctions(testBus(sql, []));
const asServer = createGateway({ ...serverFunctions(testBus(sql, engineHandlers())), ...demo });
const asAnyone = createGateway({ ...testFunctions(testBus(sql, engineHandlers())), ...demo }); // no credentials
const shop = await openShop(sql, [{ name: "Fig", price: 100, stock: 5 }]);

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY: unknown[] = [
  "' or 1=1 --", "'; drop table events_log; --", "\" or \"\"=\"", "$.payload ? (@ == 1)", "$..*", "lax $.a[*] ? (@ like_regex \".*\")",
  "{\"$ne\": null}", "%00", "\u0000", "\ud800", "a".repeat(10_000), "../../etc/passwd", "<script>alert(1)</script>", "NaN",
  -1, 0, 1e308, -1e308, 2 ** 63, 1.5, true, false, null, [], [1, "x"], {}, { a: { b: { c: [] } } }, "00000000-0000-0000-0000-00000000000g",
  "ORDER.CREATED", "order.", ".created", "order..created", "*", "order.*",
];

const VALID: Record<string, () => Record<string, unknown>> = {
  "process-event": () => ({ event_type: "fuzz.event", aggregate_type: "test", aggregate_id: uuid(), payload: {} }),
  checkout: () => ({ store_id: shop.storeId, customer_email: "f@example.com", payment_method: "card", items: [{ product_id: shop.products.Fig, quantity: 1 }] }),
  "confirm-delivery": () => ({ order_id: uuid(), customer_email: "f@example.com" }),
  "retry-failed-events": () => ({ budget_ms: 1000 }),
  "demo-pay": () => ({ order_id: uuid() }),
  "demo-deliver": () => ({ order_id: uuid() }),
};
/** Fields whose fuzzed value could still be a valid request (any JSON object is a payload): left alone. */
const FREE_FIELDS = new Set(["process-event.payload"]);

async function counts(): Promise<string> {
  const [row] = await sql`
    select (select count(*) from events_log) || '/' || (select count(*) from event_handlers_log) || '/' ||
           (select count(*) from orders) || '/' || (select count(*) from payments) || '/' || (select count(*) from deliveries) as c`;
  return row.c;
}

function malformedRequests(seed: number, n: number): { what: string; request: Request }[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const out: { what: string; request: Request }[] = [];
  const names = Object.keys(VALID);
  for (let i = 0; i < n; i++) {
    const fn = pick(names);
    const url = `http://localhost/functions/v1/${fn}`;
    const kind = random();
    if (kind < 0.6) {
      // One field broken (or an extra one added): always invalid.
      const body: Record<string, unknown> = VALID[fn]();
      const fields = Object.keys(body).filter((f) => !FREE_FIELDS.has(`${fn}.${f}`));
      const field = random() < 0.15 ? `extra_${Math.floor(random() * 9)}` : pick(fields);
      body[field] = pick(NASTY);
      if (fn === "retry-failed-events" && field === "budget_ms" && typeof body[field] === "number" && Number.isInteger(body[field]) &&
          (body[field] as number) >= 100 && (body[field] as number) <= 120_000) body[field] = "soon";
      out.push({ what: `${fn} ${field}=${JSON.stringify(body[field])?.slice(0, 40)}`, request: new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }) });
    } else if (kind < 0.7) {
      let body = JSON.stringify(pick(NASTY));
      if (fn === "retry-failed-events" && body === "{}") body = "[]"; // every field of its input is optional
      out.push({ what: `${fn} body ${body.slice(0, 30)}`, request: new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body }) });
    } else if (kind < 0.8) {
      const bytes = new Uint8Array(1 + Math.floor(random() * 64)).map(() => Math.floor(random() * 256));
      bytes[0] = 0x7b; // "{" then garbage: never valid JSON
      out.push({ what: `${fn} random bytes`, request: new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: bytes }) });
    } else if (kind < 0.85) {
      out.push({ what: `${fn} huge body`, request: new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: `{"x":"${"y".repeat(300_000)}"}` }) });
    } else if (kind < 0.92) {
      const type = pick(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]);
      out.push({ what: `${fn} as ${type}`, request: new Request(url, { method: "POST", headers: { "content-type": type }, body: "a=1&b=2" }) });
    } else {
      const method = pick(["PUT", "DELETE", "PATCH"]);
      out.push({ what: `${fn} ${method}`, request: new Request(url, { method, headers: { "content-type": "application/json" }, body: "{}" }) });
    }
  }
  // The GET functions, with injection strings in their query parameters.
  for (const value of NASTY.filter((v): v is string => typeof v === "string")) {
    let query: string;
    try {
      query = encodeURIComponent(value);
    } catch {
      continue; // a lone surrogate cannot be put in a URL at all
    }
    out.push({ what: `order-status ${value.slice(0, 20)}`, request: new Request(`http://localhost/functions/v1/order-status?order_id=${query}`) });
  }
  return out;
}

describe("fuzzing every function", () => {
  it("4,000 malformed requests, as the server and as anyone: no 5xx, a JSON error each, no row left behind", async () => {
    const before = await counts();
    const failures: string[] = [];
    const requests = [
      ...malformedRequests(20261123, 3000).map((r) => ({ ...r, gateway: asServer })),
      ...malformedRequests(777, 1000).map((r) => ({ ...r, what: `anyone: ${r.what}`, gateway: asAnyone })),
    ];
    for (const { what, request, gateway } of requests) {
      const res = await gateway(request);
      const text = await res.text();
      if (res.status >= 500 || res.status < 400) failures.push(`${res.status} ${what}: ${text.slice(0, 120)}`);
      else {
        const body = JSON.parse(text);
        if (typeof body.error !== "string" || typeof body.message !== "string" || /select |insert |at \w+ \(/i.test(text)) {
          failures.push(`bad error body for ${what}: ${text.slice(0, 120)}`);
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await counts()).toBe(before);
  }, 120_000);
});

/**
 * Hostile JSON in every position of every function's body (src/core/http.ts assertStorable):
 * NUL in each string and each key, nesting up to 10,000 deep, numbers that would be stored
 * as null or rounded, arrays and objects of up to 20,000 members (as many as fit under the
 * function's body limit). Each a 400 naming the field.
 */
const RICH: Record<string, () => Record<string, unknown>> = {
  ...VALID,
  "process-event": () => ({ ...VALID["process-event"](), store_id: shop.storeId, idempotency_key: `fuzz-${uuid()}`, payload: { note: "n", nested: { list: ["x", { deep: "y" }] } } }),
};

/** Each function's body limit (readJson's maxBytes): the hostile members are sized to fit under it. */
const BODY_LIMIT: Record<string, number> = {
  "process-event": 128 * 1024, checkout: 32 * 1024, "confirm-delivery": 4096, "retry-failed-events": 4096, "demo-pay": 1024, "demo-deliver": 1024,
};

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

function hostileRequests(): { what: string; fn: string; field: string | RegExp; body: string }[] {
  const out: { what: string; fn: string; field: string | RegExp; body: string }[] = [];
  const fieldOf = (path: (string | number)[]) => path.map(String).join(".");
  for (const fn of Object.keys(RICH)) {
    const body = RICH[fn]();
    // Room left under the body limit, in bytes, for the member put in place of one value.
    const room = BODY_LIMIT[fn] - JSON.stringify(body).length - 200;
    const depth = Math.min(10_000, Math.floor(room / 2));
    const members = Math.min(20_000, Math.floor(room / 2));
    const keys = Math.min(20_000, Math.floor(room / 12));
    for (const { path, isKey, value } of positions(body)) {
      const field = fieldOf(path);
      const at = (what: string, raw: string, expected: string | RegExp = field) => out.push({ what: `${fn} ${field}: ${what}`, fn, field: expected, body: bodyWith(body, path, raw) });
      if (isKey) {
        const key = `${path[path.length - 1]}\u0000`;
        out.push({ what: `${fn} key ${field}: NUL`, fn, field: fieldOf([...path.slice(0, -1), `${key.slice(0, -1)}\\u0000`]), body: bodyWith(body, path, "", key) });
        continue;
      }
      if (typeof value === "string") {
        at("NUL at the end", JSON.stringify(`${value}\u0000`));
        at("NUL alone", JSON.stringify("\u0000"));
      }
      at(`nested ${depth} deep`, `${"[".repeat(depth)}${"]".repeat(depth)}`, new RegExp(`^${field.replace(/\./g, "\\.")}(\\.0)+`));
      at("1e400", "1e400");
      at("-1e400", "-1e400");
      at("12345678901234567890123", "12345678901234567890123");
      at("2^53 + 1", "9007199254740993");
      if (!FREE_FIELDS.has(`${fn}.${path[0]}`)) {
        // Huge, but well-formed and under the size limits: refused by the schema, naming the field.
        at(`an array of ${members}`, `[${new Array(members).fill(0).join(",")}]`, new RegExp(`^${field.replace(/\./g, "\\.")}`));
        at(`an object of ${keys} keys`, `{${Array.from({ length: keys }, (_, i) => `"k${i}":0`).join(",")}}`, new RegExp(`^${field.replace(/\./g, "\\.")}`));
      }
    }
    // As many unknown top-level keys as fit: refused naming the first, in a short answer.
    const unknown = Math.floor(room / 16);
    const extra = Array.from({ length: unknown }, (_, i) => `"extra_${i}":0`).join(",");
    out.push({ what: `${fn} ${unknown} unknown keys`, fn, field: "extra_0", body: JSON.stringify(body).replace(/}$/, `,${extra}}`) });
  }
  return out;
}

describe("fuzzing every function with JSON PostgreSQL could not keep", () => {
  it("NUL in every string and key, nesting up to 10,000 deep, non-finite and unsafe numbers, arrays and objects of up to 20,000 members: a 400 naming the field each, no row left behind", async () => {
    const before = await counts();
    const failures: string[] = [];
    const started = performance.now();
    const requests = hostileRequests();
    expect(requests.length).toBeGreaterThan(150);
    for (const { what, fn, field, body } of requests) {
      const res = await asServer(new Request(`http://localhost/functions/v1/${fn}`, { method: "POST", headers: { "content-type": "application/json" }, body }));
      const text = await res.text();
      const answer = JSON.parse(text);
      const named = typeof answer.field === "string" && (typeof field === "string" ? answer.field === field : field.test(answer.field));
      if (res.status !== 400 || !named || typeof answer.message !== "string" || text.length > 2_000) failures.push(`${res.status} ${what}: ${text.slice(0, 160)}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await counts()).toBe(before);
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);
});
