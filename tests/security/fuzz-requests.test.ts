/**
 * Every route of every function (tests/support/fuzz.ts, listed from createFunctions) with
 * every method and every content type, from the server, anon and a signed-in stranger;
 * then NUL and hostile numbers in every query parameter, hostile path segments and
 * headers; then what only a raw socket can send (TRACE, nonsense methods, NUL bytes in a
 * header or the path) to the Node gateway. No 5xx, each refusal a JSON error naming what
 * to fix (the method, the content-type, the parameter), nothing stored.
 */
import { gzipSync } from "node:zlib";
import { connect, type AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { serveNode } from "../../src/local/node-http.ts";
import { useDatabase } from "../support/database.ts";
import { uuid } from "../support/bus.ts";
import { CALLERS, contractProblem, fuzzWorld, type Route, rowCounts } from "../support/fuzz.ts";

const { sql } = await useDatabase();
const world = await fuzzWorld(sql);
const MARKER = "fuzz\\u0000"; // how a key with NUL is named in the answer

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "FOO"];
/** Content types, and whether a JSON body under each is read (else a 415 naming the header). */
const CONTENT_TYPES: [string | undefined, boolean, Record<string, string>?][] = [
  [undefined, false], ["text/plain", false], ["application/x-www-form-urlencoded", false], ["multipart/form-data; boundary=x", false],
  ["application/xml", false], ["application/jsonp", false], ["application/json; charset=latin1", false], ["application/json; charset=utf-16", false],
  ["application/json", true], ["application/json; charset=utf-8", true], ["application/json;charset=UTF-8", true],
  ['application/json; charset="utf-8"', true], ["APPLICATION/JSON", true], ["application/vnd.api+json", true],
];
const bodyOf = (route: Route) => new TextEncoder().encode(JSON.stringify({ ...route.body?.(), "fuzz\u0000": 1 }));

/** What the caller that reaches a POST route gets for a body under this content type (and encoding). */
function expectedPost(route: Route, readAsJson: boolean, gzip: boolean): [number, string | undefined] {
  if (route.reads === "nothing") return [200, undefined];
  if (gzip) return [415, "content-encoding"];
  return readAsJson || route.reads === "any-type" ? [400, MARKER] : [415, "content-type"];
}

describe("every function, every method, every content type, every caller", () => {
  it("no 5xx; 405 naming the method, 415 naming the content-type or 400 naming the field, as each deserves; nothing stored", async () => {
    const before = await rowCounts(sql);
    const failures: string[] = [];
    let sent = 0;
    for (const route of world.routes) {
      for (const caller of CALLERS) {
        for (const method of METHODS) {
          const variants = method === "GET" || method === "HEAD" ? [undefined] : [...CONTENT_TYPES.keys(), "bom", "gzip"];
          for (const variant of variants) {
            const [type, readAsJson] = typeof variant === "number" ? CONTENT_TYPES[variant] : ["application/json", variant === "bom"];
            let body: Uint8Array<ArrayBuffer> | undefined = variant === undefined ? undefined : bodyOf(route);
            if (body && variant === "bom") body = new Uint8Array([0xef, 0xbb, 0xbf, ...body]);
            if (body && variant === "gzip") body = new Uint8Array(gzipSync(body));
            const headers = { ...(type ? { "content-type": type } : {}), ...(variant === "gzip" ? { "content-encoding": "gzip" } : {}) };
            const res = await world.send(route, caller, { method, body, headers });
            const text = await res.text();
            sent++;
            const what = `${caller} ${method} ${route.fn}${route.sub ?? ""} ${variant === undefined ? "" : type ?? "no type"}${variant === "gzip" ? " gzip" : variant === "bom" ? " bom" : ""}`;
            const problem = contractProblem(res.status, text);
            if (problem) failures.push(`${res.status} ${what}: ${problem}: ${text.slice(0, 100)}`);
            if (method === "OPTIONS") {
              if (res.status !== 204) failures.push(`${res.status} ${what}: preflight not 204`);
              continue;
            }
            if (caller !== route.reaches) {
              if (res.status < 400 && route.method === "POST" && route.reads !== "nothing") failures.push(`${res.status} ${what}: accepted`);
              continue;
            }
            const field = res.status >= 400 ? JSON.parse(text).field : undefined;
            if (method !== route.method && !(route.fn === "automations" || ["/actions", "/bulk", "/routes", "/alerts"].includes(route.sub ?? "")) || method === "FOO") {
              if (res.status !== 405 || field !== "method") failures.push(`${res.status} ${what}: expected 405 naming the method`);
            } else if (method === "POST" && route.method === "POST") {
              const [status, named] = expectedPost(route, readAsJson as boolean, variant === "gzip");
              if (res.status !== status || field !== named) failures.push(`${res.status} ${what}: expected ${status} naming ${named}, got ${field}: ${text.slice(0, 100)}`);
            }
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(2_000);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await rowCounts(sql)).toBe(before);
  }, 60_000);
});

describe("query parameters, path segments and headers", () => {
  it("NUL in every query parameter is a 400 naming it; non-finite and out-of-range numbers in a numeric one too", async () => {
    const failures: string[] = [];
    for (const route of world.routes.filter((r) => r.method === "GET")) {
      for (const param of Object.keys(route.query!())) {
        for (const value of ["a\u0000b", "\u0000"]) {
          const res = await world.send(route, route.reaches, { query: new URLSearchParams({ ...route.query!(), [param]: value }).toString() });
          const text = await res.text();
          if (res.status !== 400 || JSON.parse(text).field !== param) failures.push(`${res.status} ${route.fn}${route.sub ?? ""} ?${param}=NUL: ${text.slice(0, 100)}`);
        }
      }
    }
    const events = world.routes.find((r) => r.sub === "/events")!;
    for (const limit of ["1e400", "-1e400", "12345678901234567890123", "-0", "1e-400", "NaN", ""]) {
      const res = await world.send(events, "stranger", { query: `limit=${encodeURIComponent(limit)}` });
      const text = await res.text();
      if (res.status !== 400 || JSON.parse(text).field !== "limit") failures.push(`${res.status} limit=${limit}: ${text.slice(0, 100)}`);
    }
    expect(failures).toEqual([]);
  });

  it("hostile path segments: a 404 (or 4xx), never a 5xx, and no SQL in the answer", async () => {
    const failures: string[] = [];
    const segments = ["%00", "a%00b", "-".repeat(36), `${uuid().slice(0, 35)}%00`, "..%2f..%2fetc", "%2e%2e", "x".repeat(5_000), "%ff%fe", "%ED%A0%80"];
    for (const route of world.routes) {
      for (const segment of segments) {
        for (const path of [`/functions/v1/${route.fn}${segment}`, `/functions/v1/${route.fn}/${segment}`, `/functions/v1/${route.fn}${route.sub?.replace(/\/[^/]+$/, `/${segment}`) ?? ""}`]) {
          const res = await world.send(route, route.reaches, { path, body: route.method === "POST" ? JSON.stringify(route.body?.() ?? {}) : undefined });
          const text = await res.text();
          const problem = contractProblem(res.status, text);
          if (problem) failures.push(`${res.status} ${path.slice(0, 80)}: ${problem}: ${text.slice(0, 100)}`);
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it("hostile headers used as input (keys, tokens, signatures, lengths): no 5xx, a JSON error each", async () => {
    const before = await rowCounts(sql);
    const hostile: Record<string, string>[] = [
      { apikey: `sb_secret_${"x".repeat(10_000)}` }, { apikey: "sb_publishable_\u00ff" }, { apikey: "eyJ.eyJ.x" },
      { authorization: "Bearer a.b.c" }, { authorization: `Bearer ${"eyJ".repeat(5_000)}.x.y` }, { authorization: "Basic Zm9vOmJhcg==" },
      { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"role":"service_role","exp":1e400}').toString("base64url")}.` },
      { "webhook-id": "\u00ff".repeat(300), "webhook-timestamp": "1e400", "webhook-signature": "v1,\u00ff" },
      { "webhook-timestamp": "-0" }, { "webhook-timestamp": "99999999999999999999" },
      { "stripe-signature": "t=1e400,v1=zz" }, { "stripe-signature": `t=${"9".repeat(30)},v1=${"a".repeat(64)}` },
      { "content-length": "99999999999999999999" }, { "content-type": `application/json; charset=${"x".repeat(10_000)}` },
      { "idempotency-key": "k".repeat(10_000) }, { "idempotency-key": "\u00ff\u00fe" }, { "idempotency-key": "" }, { "idempotency-key": '"\\"' },
    ];
    const failures: string[] = [];
    for (const route of world.routes) {
      for (const headers of hostile) {
        const body = route.method === "POST" ? JSON.stringify({ ...route.body?.(), "fuzz\u0000": 1 }) : undefined;
        const res = await world.send(route, route.reaches, { headers, body });
        const text = await res.text();
        const problem = contractProblem(res.status, text) ?? (res.status < 400 && route.method === "POST" && route.reads !== "nothing" ? "accepted" : undefined);
        if (problem) failures.push(`${res.status} ${route.fn}${route.sub ?? ""} ${JSON.stringify(headers).slice(0, 60)}: ${problem}: ${text.slice(0, 100)}`);
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await rowCounts(sql)).toBe(before);
  });
});

describe("what only a raw socket can send, to the Node gateway", async () => {
  const server = await serveNode(world.gateway, 0, "127.0.0.1", { requestDeadlineMs: 2_000 });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const raw = (bytes: string) => new Promise<string>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (chunk) => (text += chunk)).on("error", () => {}).on("close", () => resolve(text));
    socket.end(Buffer.from(bytes, "latin1"));
  });

  it("TRACE, CONNECT, nonsense methods, NUL bytes in a header, the path or the query: a 4xx or a closed connection, never a 5xx", async () => {
    const failures: string[] = [];
    for (const route of world.routes) {
      const path = `/functions/v1/${route.fn}${route.sub ?? ""}`;
      const heads = [
        `TRACE ${path} HTTP/1.1\r\nHost: localhost\r\n`, `CONNECT ${path} HTTP/1.1\r\nHost: localhost\r\n`, `FOO ${path} HTTP/1.1\r\nHost: localhost\r\n`,
        `get ${path} HTTP/1.1\r\nHost: localhost\r\n`, `POST ${path} HTTP/1.1\r\nHost: localhost\r\napikey: a\u0000b\r\n`,
        `POST ${path}\u0000x HTTP/1.1\r\nHost: localhost\r\n`, `GET ${path}?order_id=\u0000 HTTP/1.1\r\nHost: localhost\r\n`,
        `POST ${path} HTTP/1.1\r\nHost: a b\r\n`, `POST ${path} HTTP/1.1\r\nHost: localhost\r\ncontent-length: -1\r\n`,
        `POST ${path} HTTP/1.1\r\nHost: localhost\r\nauthorization: Bearer \u00ff\u00fe\r\n`,
      ];
      for (const head of heads) {
        const text = await raw(`${head}connection: close\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        if (status >= 500 || (status > 0 && status < 400 && !head.startsWith("GET"))) failures.push(`${status} ${JSON.stringify(head.slice(0, 60))}: ${text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 30_000);
});
