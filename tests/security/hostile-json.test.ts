/**
 * JSON that PostgreSQL could not keep as sent: NUL in a value or a key, a lone surrogate,
 * nesting 10,000 deep, numbers that would be stored as null, rounded or without their sign. Each is a 400
 * naming the field, before anything is stored (src/bus/http.ts assertStorable).
 */
import { describe, expect, it } from "vitest";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { serverFunctions } from "../support/auth.ts";
import { useDatabase } from "../support/database.ts";
import { testBus, uuid } from "../support/bus.ts";

const { sql } = await useDatabase();
const gateway = createGateway(serverFunctions(testBus(sql, engineHandlers())));

const emit = (body: string) => gateway(new Request("http://localhost/functions/v1/process-event", {
  method: "POST", headers: { "content-type": "application/json" }, body,
}));
const event = (extra: string) =>
  `{"event_type":"hostile.json","aggregate_type":"test","aggregate_id":"${uuid()}"${extra}}`;
const stored = async () => Number((await sql`select count(*) from feyxa.events_log where event_type = 'hostile.json'`)[0].count);

describe("JSON PostgreSQL could not keep, at process-event", () => {
  const cases: [string, string, string | RegExp][] = [
    ["NUL in a payload value", event(`,"payload":{"note":"a\\u0000b"}`), "payload.note"],
    ["NUL in a payload key", event(`,"payload":{"a\\u0000b":1}`), "payload.a\\u0000b"],
    ["NUL in a nested payload array", event(`,"payload":{"list":[1,{"x":"\\u0000"}]}`), "payload.list.1.x"],
    ["NUL in the idempotency key", event(`,"payload":{},"idempotency_key":"k\\u0000"`), "idempotency_key"],
    ["a lone surrogate in a payload value", event(`,"payload":{"s":"\\ud800"}`), "payload.s"],
    ["a payload nested 10,000 deep", event(`,"payload":{"a":${"[".repeat(10_000)}${"]".repeat(10_000)}}`), /^payload\.a(\.0)+/],
    ["1e400 (Infinity, stored as null)", event(`,"payload":{"x":1e400}`), "payload.x"],
    ["-1e400", event(`,"payload":{"x":-1e400}`), "payload.x"],
    ["an integer past 2^53 (stored rounded)", event(`,"payload":{"x":12345678901234567890123}`), "payload.x"],
    ["2^53 + 1", event(`,"payload":{"x":9007199254740993}`), "payload.x"],
    ["1e-400 (stored as 0)", event(`,"payload":{"x":[1,1e-400]}`), "payload.x.1"],
    ["-0 (stored as 0, its sign lost)", event(`,"payload":{"x":-0}`), "payload.x"],
    ["a decimal with more digits than a double keeps", event(`,"payload":{"x":0.1000000000000000000001}`), "payload.x"],
    ["a body that is a bare number", "1e-400", "body"],
  ];
  for (const [what, body, field] of cases) {
    it(`refuses ${what}: 400 naming ${field}, nothing stored`, async () => {
      const before = await stored();
      const res = await emit(body);
      const answer = await res.json();
      expect(res.status, JSON.stringify(answer).slice(0, 300)).toBe(400);
      expect(answer.error).toBe("invalid_request");
      if (typeof field === "string") expect(answer.field).toBe(field);
      else expect(answer.field).toMatch(field);
      expect(answer.field.length).toBeLessThanOrEqual(200);
      expect(await stored()).toBe(before);
    });
  }

  it("keeps what it accepts exactly: ±(2^53 − 1), decimals a double holds (0.1, 1.50e2), nesting up to the limit, escapes other than NUL", async () => {
    const deep = `${"[".repeat(60)}1${"]".repeat(60)}`;
    const res = await emit(event(`,"payload":{"max":9007199254740991,"min":-9007199254740991,"d":0.1,"e":1.50e2,"deep":${deep},"s":"tab\\there \\ud83d\\ude00"}`));
    expect(res.status).toBe(201);
    const { event_id } = await res.json();
    const [row] = await sql`select payload::text as text, payload->>'max' as max from feyxa.events_log where id = ${event_id}`;
    expect(row.max).toBe("9007199254740991");
    expect(row.text).toContain('"min": -9007199254740991');
    expect(row.text).toContain('"d": 0.1');
    expect(row.text).toContain('"e": 150');
    expect(row.text).toContain("tab\\there 😀");
  });
});
