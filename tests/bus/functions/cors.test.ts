/**
 * CORS is the functions' own (src/bus/cors.ts), not the local gateway's: every function
 * answers a browser's preflight and labels every answer, errors included, so a page on
 * another origin can call it on Supabase exactly as locally.
 */
import { describe, expect, it } from "vitest";
import { CORS_HEADERS, withCors } from "../../../src/bus/cors.ts";
import { HttpError } from "../../../src/bus/errors.ts";
import { createDemoFunctions } from "../../../src/marketplace/functions/demo.ts";
import { createFunctions } from "../../../src/marketplace/functions/index.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { testFunctions } from "../../support/auth.ts";
import { testBus } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);
const functions = { ...testFunctions(bus), ...createDemoFunctions(bus) };
const names = Object.keys(functions);

/** What Chromium sends before supabase-js's functions.invoke from another origin. */
const preflight = (name: string) => new Request(`http://localhost:54321/functions/v1/${name}`, {
  method: "OPTIONS",
  headers: {
    origin: "http://localhost:5173",
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization,apikey,content-type,x-client-info",
  },
});

function expectCors(response: Response): void {
  expect(response.headers.get("access-control-allow-origin")).toBe("*");
}

describe("every function", () => {
  it("is listed: the functions a page calls are among them", () => {
    expect(names).toEqual(expect.arrayContaining(["checkout", "storefront", "order-status", "confirm-delivery", "process-event", "event-monitor", "demo-pay"]));
  });

  it.each(names)("%s answers a preflight with 204 and the headers supabase-js sends", async (name) => {
    const response = await functions[name](preflight(name));
    expect(response.status).toBe(204);
    expectCors(response);
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "apikey", "content-type", "x-client-info", "idempotency-key"]));
    expect(response.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(response.headers.get("access-control-allow-methods")).toMatch(/GET/);
  });

  it.each(names)("%s labels its error answers", async (name) => {
    const response = await functions[name](new Request(`http://localhost:54321/functions/v1/${name}`, {
      method: "POST", headers: { "content-type": "text/plain", authorization: "Bearer not.a.jwt" }, body: "{",
    }));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expectCors(response);
    await response.body?.cancel();
  });

  it.each(names)("%s labels its answer when authentication is not configured", async (name) => {
    const unconfigured = { ...createFunctions(bus), ...createDemoFunctions(bus) }[name];
    const response = await unconfigured(new Request(`http://localhost:54321/functions/v1/${name}`, { method: "GET" }));
    expectCors(response);
    await response.body?.cancel();
  });

  it("answers a successful call with the CORS headers too", async () => {
    const response = await functions.storefront(new Request("http://localhost:54321/functions/v1/storefront"));
    expect(response.status).toBe(200);
    expectCors(response);
    await response.body?.cancel();
  });
});

describe("the local gateway", () => {
  const gateway = createGateway(functions);

  it("adds nothing of its own: a function's preflight comes from the function", async () => {
    const response = await gateway(preflight("checkout"));
    expect(response.status).toBe(204);
    expectCors(response);
  });

  it("labels its own 404", async () => {
    const response = await gateway(new Request("http://localhost:54321/functions/v1/nope", { method: "POST" }));
    expect(response.status).toBe(404);
    expectCors(response);
    await response.body?.cancel();
  });
});

describe("withCors", () => {
  it("turns what a handler throws into a labelled JSON error", async () => {
    const response = await withCors(async () => { throw new HttpError(409, "conflict", "taken"); })(new Request("http://x/"));
    expect(response.status).toBe(409);
    expectCors(response);
    expect(await response.json()).toMatchObject({ error: "conflict" });
  });

  it("labels a response whose headers are immutable", async () => {
    const response = await withCors(async () => Response.redirect("http://x/elsewhere", 302))(new Request("http://x/"));
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("http://x/elsewhere");
    for (const [name, value] of Object.entries(CORS_HEADERS)) expect(response.headers.get(name)).toBe(value);
  });
});
