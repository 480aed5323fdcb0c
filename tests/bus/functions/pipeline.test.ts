/**
 * The one HTTP pipeline (src/bus/functions/pipeline.ts), on a definition made for the test:
 * its steps run in order (method, caller, route, body, query), each refusal is the JSON
 * answer the contract wants, with CORS, and what a handler throws goes through toHttpError.
 * No database: the steps under test never reach one.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Bus } from "../../../src/bus/bus.ts";
import { defineFunction, json, route, serveFunction } from "../../../src/bus/functions/pipeline.ts";
import { TEST_SECRET_KEY, testAuth } from "../../support/auth.ts";

let reached = 0;
const probe = defineFunction({
  name: "probe",
  auth: "server",
  routes: [
    route("GET /things/:id", { query: z.object({ n: z.coerce.number().int() }), handle: ({ params, query }) => json({ id: params.id, n: query.n }) }),
    route("POST /things", {
      body: z.strictObject({ name: z.string().max(5) }), maxBytes: 64,
      handle: ({ body }) => { reached++; return json(body, 201); },
    }),
    route("POST /optional", { body: z.object({ n: z.number().optional() }), emptyBody: true, handle: ({ body }) => json(body) }),
    route("POST /conflict", { handle: () => { throw Object.assign(new Error("duplicate key"), { code: "23505" }); } }),
  ],
});
const bus = {} as Bus;
const served = serveFunction(probe, { bus, auth: testAuth, env: () => ({}) });
const unconfigured = serveFunction(probe, { bus, auth: () => undefined, env: () => ({}) });
const server = { apikey: TEST_SECRET_KEY };

const call = (fn: typeof served, method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
  fn(new Request(`http://localhost/functions/v1/probe${path}`, { method, body: init.body, headers: { ...server, ...init.headers } }));

async function answer(response: Response) {
  expect(response.headers.get("access-control-allow-origin")).toBe("*");
  return { status: response.status, ...(await response.json()) };
}

describe("the pipeline", () => {
  it("checks the method first: 405 naming the methods, even when authentication is not configured", async () => {
    const response = await call(unconfigured, "DELETE", "/things");
    expect(response.headers.get("allow")).toBe("GET, POST");
    expect(await answer(response)).toMatchObject({ status: 405, error: "method_not_allowed", field: "method" });
  });

  it("answers 503 when authentication is not configured, then 401 for anon where the server is required", async () => {
    expect(await answer(await call(unconfigured, "POST", "/things", { body: "{}" }))).toMatchObject({ status: 503, error: "unavailable" });
    const anon = await served(new Request("http://localhost/functions/v1/probe/things", { method: "POST", body: "{}" }));
    expect(await answer(anon)).toMatchObject({ status: 401 });
  });

  it("routes by the path after the function's name: params, 404 for no route, 405 for a path served by another method", async () => {
    expect(await answer(await call(served, "GET", "/things/abc?n=3"))).toEqual({ status: 200, id: "abc", n: 3 });
    expect(await answer(await call(served, "GET", "/nope"))).toMatchObject({ status: 404, error: "not_found" });
    const wrong = await call(served, "GET", "/things");
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await answer(wrong)).status).toBe(405);
  });

  it("reads the body: 415 unless JSON, 413 past maxBytes, 400 naming the field, and never calls the handler then", async () => {
    const json = { "content-type": "application/json" };
    expect(await answer(await call(served, "POST", "/things", { body: '{"name":"a"}', headers: { "content-type": "text/plain" } })))
      .toMatchObject({ status: 415, field: "content-type" });
    expect(await answer(await call(served, "POST", "/things", { body: JSON.stringify({ name: "x".repeat(100) }), headers: json })))
      .toMatchObject({ status: 413, field: "body" });
    expect(await answer(await call(served, "POST", "/things", { body: '{"name":"toolong"}', headers: json })))
      .toMatchObject({ status: 400, field: "name" });
    expect(await answer(await call(served, "POST", "/things", { body: '{"name":"a","x":1}', headers: json })))
      .toMatchObject({ status: 400, field: "x" });
    expect(reached).toBe(0);
    expect(await answer(await call(served, "POST", "/things", { body: '{"name":"a"}', headers: json }))).toEqual({ status: 201, name: "a" });
    expect(await answer(await call(served, "POST", "/optional"))).toEqual({ status: 200 });
  });

  it("parses the query: 400 naming the field", async () => {
    expect(await answer(await call(served, "GET", "/things/abc?n=x"))).toMatchObject({ status: 400, field: "n" });
  });

  it("maps what a handler throws through toHttpError (a unique key taken: 409)", async () => {
    expect(await answer(await call(served, "POST", "/conflict"))).toMatchObject({ status: 409, error: "conflict" });
  });

  it("answers a preflight before anything else", async () => {
    const response = await unconfigured(new Request("http://localhost/functions/v1/probe/anything", { method: "OPTIONS" }));
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });
});
