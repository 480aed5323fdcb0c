import { describe, expect, it } from "vitest";
import { defineHandler } from "../../../src/bus/define-handler.ts";
import { createGateway } from "../../../src/bus/functions/gateway.ts";
import { serverFunctions, TEST_SECRET_KEY, testAuth, token } from "../../support/auth.ts";
import { createProcessEvent } from "../../../src/bus/functions/process-event.ts";
import { useDatabase } from "../../support/database.ts";
import { countingHandler, eventRow, handlerRows, makeDue, subscribe, testBus, uuid } from "../../support/bus.ts";

const { sql } = await useDatabase();
const ok = countingHandler("http.ok");
const boom = countingHandler("http.boom", () => new Error("card processor unreachable"));
await subscribe(sql, "http.placed", "http.ok");
await subscribe(sql, "http.exploded", "http.ok", "http.boom");
const bus = testBus(sql, [ok.handler, boom.handler, defineHandler("http.unused", async () => {})]);
const gateway = createGateway(serverFunctions(bus));

const URL_ = "http://localhost:54321/functions/v1/process-event";
function post(body: unknown, init: RequestInit = {}): Promise<Response> {
  return gateway(new Request(URL_, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  }));
}
const newEvent = (over: Record<string, unknown> = {}) => ({
  event_type: "http.placed", aggregate_type: "order", aggregate_id: uuid(), payload: { total: 1200 }, ...over,
});
const count = async () => (await sql`select count(*)::int as n from feyxa.events_log`)[0].n as number;

describe("POST /functions/v1/process-event", () => {
  it("emits a new event, processes it, and answers with each handler's result", async () => {
    const res = await post(newEvent({ idempotency_key: "http-1" }));
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ duplicate: false, processed: true, status: "completed", attempt: 1 });
    expect(body.handlers).toEqual([expect.objectContaining({ handler_name: "http.ok", status: "success" })]);
    expect((await eventRow(sql, body.event_id)).status).toBe("completed");
    expect(ok.runs.get(body.event_id)).toBe(1);
  });

  it("answers a duplicate with duplicate: true and the original's state, running nothing again", async () => {
    const first = await (await post(newEvent({ idempotency_key: "http-dup" }))).json();
    const runsBefore = ok.total();
    const res = await post(newEvent({ idempotency_key: "http-dup" }));
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ event_id: first.event_id, duplicate: true, processed: false, status: "completed" });
    expect(body.handlers).toEqual([expect.objectContaining({ handler_name: "http.ok", status: "success" })]);
    expect(ok.total()).toBe(runsBefore);
  });

  it("reports a failing handler and leaves the event to be retried", async () => {
    const res = await post(newEvent({ event_type: "http.exploded" }));
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.status).toBe("failed");
    expect(body.handlers).toContainEqual(expect.objectContaining({ handler_name: "http.boom", status: "failed", error_message: "card processor unreachable" }));
    const row = await eventRow(sql, body.event_id);
    expect(row.next_retry_at).not.toBeNull();
  });

  it("processes a stored event by id, and only while it is due", async () => {
    const { eventId } = await bus.emit(newEvent());
    const first = await (await post({ event_id: eventId })).json();
    expect(first).toMatchObject({ event_id: eventId, processed: true, status: "completed" });
    const again = await (await post({ event_id: eventId })).json();
    expect(again).toMatchObject({ event_id: eventId, processed: false, status: "completed" });
    expect(ok.runs.get(eventId)).toBe(1);
  });

  it("drains other due events when the wake-up asks to", async () => {
    const a = await bus.emit(newEvent());
    const b = await bus.emit(newEvent());
    const body = await (await post({ event_id: a.eventId, drain: true })).json();
    expect(body.drained.claimed).toBeGreaterThanOrEqual(1);
    expect((await eventRow(sql, b.eventId)).status).toBe("completed");
  });

  it("stores a delayed event as pending and scheduled, without running it now", async () => {
    const res = await post(newEvent({ delay: 600, priority: 3, ordering_key: `order:${uuid()}` }));
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ duplicate: false, processed: false });
    const [row] = await sql`select status, deliver_at, priority, ordering_seq from feyxa.events_log where id = ${body.event_id}::uuid`;
    expect(row).toMatchObject({ status: "pending", priority: 3, ordering_seq: "1" });
    expect(row.deliver_at.getTime()).toBeGreaterThan(Date.now() + 590_000);
  });

  it("answers 404 for an unknown event id", async () => {
    const res = await post({ event_id: uuid() });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found", field: "event_id" });
  });

  const bad: [string, () => Promise<Response>, number, Record<string, unknown>][] = [
    ["malformed JSON", () => post("{not json"), 400, { error: "invalid_json" }],
    ["a JSON array", () => post([1, 2]), 400, { error: "invalid_request" }],
    ["a missing event_type", () => post({ aggregate_type: "order", aggregate_id: uuid(), payload: {} }), 400, { field: "event_type" }],
    ["a badly formed event_type", () => post(newEvent({ event_type: "Order Created" })), 400, { field: "event_type" }],
    ["a non-UUID aggregate_id", () => post(newEvent({ aggregate_id: "42" })), 400, { field: "aggregate_id" }],
    ["a payload that is not an object", () => post(newEvent({ payload: "hello" })), 400, { field: "payload" }],
    ["an unknown field", () => post(newEvent({ evnt_type: "x" })), 400, { error: "invalid_request" }],
    ["a non-UUID event_id", () => post({ event_id: "abc" }), 400, { field: "event_id" }],
    ["an oversized payload", () => post(newEvent({ payload: { blob: "x".repeat(70_000) } })), 413, { error: "too_large", field: "payload" }],
    ["an oversized body", () => post(newEvent({ payload: { blob: "x".repeat(200_000) } })), 413, { error: "too_large" }],
    ["a text/plain body", () => post(newEvent(), { headers: { "content-type": "text/plain" } }), 415, { error: "unsupported_media_type" }],
    ["invalid UTF-8", () => post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) as unknown as string, { body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }), 400, { error: "invalid_encoding" }],
    ["a GET", () => gateway(new Request(URL_)), 405, { error: "method_not_allowed" }],
    ["a priority over 1000", () => post(newEvent({ priority: 5000 })), 400, { field: "priority" }],
    ["a deliver_at that is not a time", () => post(newEvent({ deliver_at: "tomorrow" })), 400, { field: "deliver_at" }],
    ["both deliver_at and delay", () => post(newEvent({ deliver_at: new Date().toISOString(), delay: 5 })), 400, { field: "delay" }],
    ["an empty ordering_key", () => post(newEvent({ ordering_key: "" })), 400, { field: "ordering_key" }],
  ];
  for (const [what, send, status, expected] of bad) {
    it(`answers ${status} to ${what}, and stores nothing`, async () => {
      const before = await count();
      const res = await send();
      expect(res.status).toBe(status);
      const body = await res.json();
      expect(body).toMatchObject(expected);
      expect(typeof body.message).toBe("string");
      expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|select |insert /i); // no stack, no SQL
      expect(await count()).toBe(before);
    });
  }

  it("answers 404 with the known functions for an unknown path", async () => {
    const res = await gateway(new Request("http://localhost:54321/functions/v1/nope", { method: "POST" }));
    expect(res.status).toBe(404);
    expect((await res.json()).message).toContain("/functions/v1/process-event");
  });
});

describe("POST /functions/v1/retry-failed-events", () => {
  it("retries due failed events within its budget and answers with a summary", async () => {
    let broken = true;
    const flaky = countingHandler("retryfn.flaky", () => (broken ? new Error("down") : undefined));
    await subscribe(sql, "retryfn.event", "retryfn.flaky");
    const retryBus = testBus(sql, [flaky.handler, ok.handler, boom.handler]);
    const fns = serverFunctions(retryBus);
    const { eventId } = await retryBus.emit(newEvent({ event_type: "retryfn.event" }));
    await retryBus.drainOnce(100);
    expect((await eventRow(sql, eventId)).status).toBe("failed");

    broken = false;
    await makeDue(sql);
    const res = await fns["retry-failed-events"](new Request("http://x/functions/v1/retry-failed-events", { method: "POST" }));
    expect(res.status).toBe(200);
    const summary = await res.json();
    expect(summary.claimed).toBeGreaterThanOrEqual(1);
    expect(summary.by_status.completed).toBeGreaterThanOrEqual(1);
    expect((await eventRow(sql, eventId)).status).toBe("completed");
    expect((await handlerRows(sql, eventId)).map((r) => `${r.attempt}:${r.status}`)).toEqual(["1:failed", "2:success"]);
  });

  it("rejects a bad budget with the field named", async () => {
    const fns = serverFunctions(bus);
    const res = await fns["retry-failed-events"](new Request("http://x/", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ budget_ms: "soon" }),
    }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: "budget_ms" });
  });
});

describe("when the database is unreachable", () => {
  it("answers 503 with a retry hint and no internals", async () => {
    const postgres = (await import("postgres")).default;
    const port = await (await import("../../support/test-postgres.ts")).freePort(); // nothing listens there
    const down = postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { connect_timeout: 2, max: 1, onnotice: () => {} });
    const fns = serverFunctions(testBus(down, []));
    const res = await fns["process-event"](new Request("http://x/", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(newEvent()),
    }));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(await res.json()).toEqual({ error: "unavailable", message: "the database is unavailable; retry shortly" });
    await down.end({ timeout: 1 });
  });
});

describe("a caller other than the server chooses no key of the server's", () => {
  // An app whose hook lets a signed-in user emit http.placed as given: the bus itself keeps their keys apart.
  const open = createProcessEvent(bus, { auth: testAuth, authorizeEmit: async () => undefined });
  const as = async (headers: Record<string, string>, body: unknown) =>
    open(new Request(URL_, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }));

  it("a user's idempotency key is namespaced under client:<user id>:, so the server's emit of that key is processed", async () => {
    const user = uuid();
    const aggregateId = uuid();
    const serverKey = `http.placed:${aggregateId}`;
    const squat = await as({ authorization: `Bearer ${await token(user)}` }, newEvent({ aggregate_id: aggregateId, idempotency_key: serverKey }));
    expect(squat.status).toBe(201);
    const squatted = await squat.json();
    expect((await sql`select idempotency_key from feyxa.events_log where id = ${squatted.event_id}`)[0].idempotency_key).toBe(`client:${user}:${serverKey}`);
    const server = await as({ apikey: TEST_SECRET_KEY }, newEvent({ aggregate_id: aggregateId, idempotency_key: serverKey }));
    expect(server.status).toBe(201);
    expect(await server.json()).toMatchObject({ duplicate: false, status: "completed" });
  });

  it("a user's key too long once namespaced is a 400 naming idempotency_key", async () => {
    const res = await as({ authorization: `Bearer ${await token(uuid())}` }, newEvent({ idempotency_key: "k".repeat(190) }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: "idempotency_key" });
  });
});
