/**
 * Idempotency keys in the pipeline (src/bus/functions/idempotency.ts, the store in
 * supabase/schemas/bus/idempotency.sql), on a definition made for the test whose handler
 * counts its runs: one run per key and caller whatever the timing, the first answer replayed
 * (status, body), another request under the same key a 422, a malformed key a 400 naming
 * the header, a 5xx not kept, a key whose request died taken over after its lease, keys of
 * different callers apart, the purge keeping keys 24 hours.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFunction, json, route, serveFunction } from "../../../src/bus/functions/pipeline.ts";
import { HttpError } from "../../../src/bus/errors.ts";
import { TEST_SECRET_KEY, testAuth, token } from "../../support/auth.ts";
import { testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);

let runs = 0;
let slowMs = 0;
const probe = defineFunction({
  name: "probe",
  auth: "anyone",
  routes: [
    route("POST /things", {
      body: z.strictObject({ name: z.string().max(20), n: z.number().optional() }), idempotent: true,
      handle: async ({ body, caller }) => {
        const run = ++runs;
        if (slowMs) await new Promise((resolve) => setTimeout(resolve, slowMs));
        if (body.name === "refused") throw new HttpError(409, "conflict", "refused, as a business rule would", "name");
        if (body.name === "broken") throw Object.assign(new Error("db went away"), { code: "57P01" });
        return json({ run, name: body.name, caller: caller.kind }, 201, { "x-made": String(run) });
      },
    }),
    route("POST /plain", { body: z.object({}), handle: () => json({ run: ++runs }, 201) }),
  ],
});
const served = serveFunction(probe, { bus, auth: testAuth, env: () => ({}) });

const post = (key: string | undefined, body: unknown, headers: Record<string, string> = {}, path = "/things") =>
  served(new Request(`http://localhost/functions/v1/probe${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key === undefined ? {} : { "idempotency-key": key }), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  }));
const read = async (response: Response) => ({ status: response.status, body: await response.text(), replayed: response.headers.get("idempotent-replayed") });

describe("a route that accepts an Idempotency-Key", () => {
  it("runs once for ten identical requests sent at once, and gives all ten the same answer", async () => {
    runs = 0;
    slowMs = 150; // the first is still running when the others arrive: they wait for it
    const key = uuid();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(key, { name: "mug" }).then(read)));
    slowMs = 0;
    expect(runs).toBe(1);
    expect(new Set(answers.map((a) => `${a.status} ${a.body}`)).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 201, body: JSON.stringify({ run: 1, name: "mug", caller: "anon" }) });
    expect(answers.filter((a) => a.replayed === "true")).toHaveLength(9);
  });

  it("replays the first answer later too, with its headers, and reads a body by value (key order, spacing)", async () => {
    runs = 0;
    const key = uuid();
    const first = await post(key, { name: "lamp", n: 2 });
    const again = await post(key, '{ "n": 2,   "name": "lamp" }');
    expect(runs).toBe(1);
    expect(again.status).toBe(201);
    expect(await again.text()).toBe(await first.text());
    expect(again.headers.get("x-made")).toBe("1");
    expect(again.headers.get("content-type")).toMatch(/application\/json/);
    expect(again.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("answers 422 naming the header when the key comes back with another body, or on another path", async () => {
    runs = 0;
    const key = uuid();
    await post(key, { name: "chair" });
    const other = await post(key, { name: "stool" });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ error: "idempotency_key_reused", field: "idempotency-key", message: expect.stringMatching(/another request/) });
    expect(runs).toBe(1);
    // The first request's answer is still there for its own repeats.
    expect(await (await post(key, { name: "chair" })).json()).toMatchObject({ run: 1, name: "chair" });
  });

  it("keeps a refusal (4xx) like any answer, and forgets a 5xx so that asking again runs again", async () => {
    runs = 0;
    const refusedKey = uuid();
    expect((await post(refusedKey, { name: "refused" })).status).toBe(409);
    const again = await post(refusedKey, { name: "refused" });
    expect(again.status).toBe(409);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(runs).toBe(1);

    const brokenKey = uuid();
    expect((await post(brokenKey, { name: "broken" })).status).toBe(503);
    expect((await post(brokenKey, { name: "broken" })).status).toBe(503);
    expect(runs).toBe(3);
    expect(await sql`select 1 from feyxa.idempotency_keys where key = ${brokenKey}`).toHaveLength(0);
  });

  it("refuses a malformed key with a 400 naming the header, and runs nothing", async () => {
    runs = 0;
    for (const bad of ["", "   ", "x".repeat(256), "clé-é", '""']) {
      const response = await post(bad, { name: "mug" });
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(await response.json()).toMatchObject({ field: "idempotency-key", message: expect.stringMatching(/^Idempotency-Key: /) });
    }
    expect((await post("x".repeat(255), { name: "mug" })).status).toBe(201);
    expect((await post('"quoted key"', { name: "mug" })).status).toBe(201); // the draft's sf-string form
    expect(await sql`select key from feyxa.idempotency_keys where key = 'quoted key'`).toHaveLength(1);
    expect(runs).toBe(2);
  });

  it("refuses a body idempotency_key, naming it and saying to use the header", async () => {
    const response = await post(undefined, { name: "mug", idempotency_key: "k1" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ field: "idempotency_key", message: expect.stringMatching(/Idempotency-Key header/) });
  });

  it("runs every request without a key, and ignores a key where the route does not accept one", async () => {
    runs = 0;
    await post(undefined, { name: "mug" });
    await post(undefined, { name: "mug" });
    const key = uuid();
    await post(key, {}, {}, "/plain");
    await post(key, {}, {}, "/plain");
    expect(runs).toBe(4);
  });

  it("keeps the keys of different callers apart: a guest's, two users', the server's", async () => {
    runs = 0;
    const key = uuid();
    const [ada, bea] = [uuid(), uuid()];
    const callers: Record<string, string>[] = [{}, { authorization: `Bearer ${await token(ada)}` }, { authorization: `Bearer ${await token(bea)}` }, { apikey: TEST_SECRET_KEY }];
    const answers = [];
    for (const headers of callers) answers.push(await (await post(key, { name: "mug" }, headers)).json());
    expect(answers.map((a) => a.caller)).toEqual(["anon", "user", "user", "server"]);
    expect(runs).toBe(4);
    // Each replays its own.
    const again = await (await post(key, { name: "mug" }, callers[2])).json();
    expect(again).toEqual(answers[2]);
    expect(runs).toBe(4);
  });

  it("takes over a key whose request died (its lease ran out without an answer)", async () => {
    runs = 0;
    const key = uuid();
    const [held] = await sql`select * from feyxa.idempotency_begin('anon', ${key}, ${"0".repeat(64)}, 30000)`;
    expect(held.outcome).toBe("run");
    await sql`update feyxa.idempotency_keys set locked_until = now() - interval '1 second' where key = ${key}`;
    // Another request under that key is still another request: 422.
    expect((await post(key, { name: "mug" })).status).toBe(422);
    await sql`update feyxa.idempotency_keys set fingerprint = ${"1".repeat(64)}, locked_until = now() + interval '1 minute' where key = ${key}`;
    const [waiting] = await sql`select * from feyxa.idempotency_begin('anon', ${key}, ${"1".repeat(64)}, 30000)`;
    expect(waiting.outcome).toBe("wait");
    await sql`update feyxa.idempotency_keys set locked_until = now() - interval '1 second' where key = ${key}`;
    const [taken] = await sql`select * from feyxa.idempotency_begin('anon', ${key}, ${"1".repeat(64)}, 30000)`;
    expect(taken.outcome).toBe("run");
    // The dead request's owner token no longer holds it: its late answer is not kept.
    const [{ kept }] = await sql`select feyxa.idempotency_finish('anon', ${key}, ${held.lock_owner}::uuid, 201, '{}', 'late') as kept`;
    expect(kept).toBe(false);
  });

  it("keeps keys at least 24 hours: the purge takes only older ones, answered or abandoned", async () => {
    const [old, fresh, running] = [uuid(), uuid(), uuid()];
    for (const key of [old, fresh, running]) await post(key, { name: "mug" });
    await sql`update feyxa.idempotency_keys set created_at = now() - interval '25 hours' where key in (${old}, ${running})`;
    await sql`update feyxa.idempotency_keys set created_at = now() - interval '23 hours' where key = ${fresh}`;
    await sql`update feyxa.idempotency_keys set status_code = null, response_headers = null, response_body = null, completed_at = null,
                owner = gen_random_uuid(), locked_until = now() + interval '1 minute' where key = ${running}`;
    expect((await sql`select feyxa.purge_idempotency_keys(10000) as n`)[0].n).toBeGreaterThanOrEqual(1);
    const left = (await sql`select key from feyxa.idempotency_keys where key in (${old}, ${fresh}, ${running})`).map((r) => r.key);
    expect(left.sort()).toEqual([fresh, running].sort());
    await expect(sql`select feyxa.purge_idempotency_keys(10, interval '1 hour')`).rejects.toMatchObject({ code: "22023", detail: "keep" });
  });
});
