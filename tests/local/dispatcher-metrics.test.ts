/**
 * `npm run dispatcher`'s own metrics (FEYXA_METRICS_PORT): its in-flight events and claim
 * latency at /metrics, in Prometheus' text format, for the server key only; the process
 * refuses to start with a port and no key to check.
 */
import { describe, expect, it } from "vitest";
import { parsePrometheusText, valueOf } from "../support/prometheus.ts";
import { useDatabase } from "../support/database.ts";
import { freePort } from "../support/test-postgres.ts";
import { startDispatcher } from "../faults/support/processes.ts";

const { url: databaseUrl } = await useDatabase();
const KEY = "sb_secret_dispatcher_metrics_test";

describe("npm run dispatcher's metrics", () => {
  it("answers the server key only, with this process's families; anything else is a 4xx", async () => {
    const port = await freePort();
    const dispatcher = startDispatcher(databaseUrl, { FEYXA_METRICS_PORT: String(port), FEYXA_SECRET_KEY: KEY });
    const worker = await dispatcher.ready;
    const at = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, init);

    expect((await at("/metrics")).status).toBe(401); // anon
    expect((await at("/metrics", { headers: { apikey: "sb_secret_not_the_key" } })).status).toBe(401);
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYXV0aGVudGljYXRlZCIsInN1YiI6IjEifQ.c2lnbmF0dXJl";
    expect((await at("/metrics", { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(401); // a user's token: none verifies here
    expect((await at("/metrics", { method: "POST", headers: { apikey: KEY } })).status).toBe(405);
    expect((await at("/other", { headers: { apikey: KEY } })).status).toBe(404);

    // Its first claims ran at start; their latency is counted.
    await new Promise((r) => setTimeout(r, 300));
    const res = await at("/metrics", { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await res.text());
    expect([...families.keys()].sort()).toEqual(["feyxa_claim_duration_seconds", "feyxa_dispatcher_in_flight"]);
    expect(valueOf(families, "feyxa_dispatcher_in_flight", { worker })).toBe(0);
    expect(valueOf(families, "feyxa_claim_duration_seconds_count", { worker })).toBeGreaterThan(0);

    dispatcher.child.kill("SIGTERM");
    expect(await dispatcher.exited).toBe(0);
  });

  it("refuses to start with FEYXA_METRICS_PORT and no server key, naming the setting", async () => {
    const dispatcher = startDispatcher(databaseUrl, { FEYXA_METRICS_PORT: String(await freePort()), FEYXA_SECRET_KEY: "" });
    let printed = "";
    dispatcher.child.stdout!.on("data", (d) => (printed += d));
    await expect(dispatcher.ready).rejects.toThrow(/exited/);
    expect(await dispatcher.exited).not.toBe(0);
    expect(printed).toMatch(/FEYXA_METRICS_PORT needs FEYXA_SECRET_KEY/);
  });
});
