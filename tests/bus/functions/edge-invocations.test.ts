/**
 * Invocations that fit the Edge Runtime (2 s of CPU a request): retry-failed-events and
 * process-event's drain wake-up each stop claiming on a work bound, finish everything
 * they claimed, and say whether more is due; a backlog is drained by successive
 * invocations with no lease expiring and no retry counted. src/bus/functions/drain.ts.
 */
import { describe, expect, it } from "vitest";
import { defineHandler } from "../../../src/bus/define-handler.ts";
import type { FetchHandler } from "../../../src/bus/http.ts";
import type { NewEvent } from "../../../src/bus/types.ts";
import { DRAIN_DEFAULTS } from "../../../src/bus/functions/drain.ts";
import { createProcessEvent } from "../../../src/bus/functions/process-event.ts";
import { createRetryFailedEvents } from "../../../src/bus/functions/retry-failed-events.ts";
import { asServer, testAuth } from "../../support/auth.ts";
import { useDatabase } from "../../support/database.ts";
import { countingHandler, subscribe, testBus, uuid } from "../../support/bus.ts";

const { sql } = await useDatabase();
const first = countingHandler("edge.first");
const second = countingHandler("edge.second");
await subscribe(sql, "edge.*", "edge.first", "edge.second");
const slow = defineHandler("edge.slow", () => new Promise((resolve) => setTimeout(resolve, 150)));
await subscribe(sql, "slow.event", "edge.slow");
const bus = testBus(sql, [first.handler, second.handler, slow]);

function functions(env: Record<string, string | undefined> = {}) {
  return {
    retry: asServer(createRetryFailedEvents(bus, { auth: testAuth, env: () => env })),
    processEvent: asServer(createProcessEvent(bus, { auth: testAuth, env: () => env })),
  };
}
const post = (fn: FetchHandler, body: unknown) =>
  fn(new Request("http://localhost/functions/v1/fn", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));

/** A count cap, as an operator may set one: the chain of invocations is then deterministic. */
const SHARE = 100;
const shared = { FEYXA_DRAIN_MAX_EVENTS: String(SHARE), FEYXA_DRAIN_MAX_HANDLER_RUNS: String(6 * SHARE) };

const backlog = (type: string, n: number): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({ event_type: type, aggregate_type: "test", aggregate_id: uuid(), payload: { i } }));
const dueNow = async () => (await sql`select count(*)::int as n from feyxa.event_queue where due_at <= now()`)[0].n as number;

/** Runs one invocation, measuring this process's CPU while it runs. */
async function invoke(fn: FetchHandler, body: unknown) {
  const before = process.cpuUsage();
  const res = await post(fn, body);
  const used = process.cpuUsage(before);
  expect(res.status).toBe(200);
  return { body: await res.json(), cpuMs: (used.user + used.system) / 1000 };
}

/** Every event of the type completed on its first attempt, each handler run exactly once, no lease lost. */
async function expectDrainedCleanly(type: string, n: number) {
  const [events] = await sql`
    select count(*)::int as total,
           count(*) filter (where status = 'completed')::int as completed,
           count(*) filter (where attempt = 1 and retry_count = 0)::int as first_try,
           count(*) filter (where error_message is not null)::int as with_error
    from feyxa.events_log where event_type = ${type}`;
  expect(events).toEqual({ total: n, completed: n, first_try: n, with_error: 0 });
  const [runs] = await sql`
    select count(*)::int as rows, count(distinct (h.event_id, h.handler_name))::int as distinct_runs,
           count(*) filter (where h.status = 'success' and h.attempt = 1)::int as first_try_successes,
           count(*) filter (where h.error_message like '%lease%')::int as lease_errors
    from feyxa.event_handlers_log h join feyxa.events_log e on e.id = h.event_id where e.event_type = ${type}`;
  expect(runs).toEqual({ rows: 2 * n, distinct_runs: 2 * n, first_try_successes: 2 * n, lease_errors: 0 });
  const [lost] = await sql`select count(*)::int as n from feyxa.events_log where error_message like 'lease expired%'`;
  expect(lost.n).toBe(0);
  const ids = (await sql<{ id: string }[]>`select id from feyxa.events_log where event_type = ${type}`).map((r) => r.id);
  expect(ids.every((id) => first.runs.get(id) === 1 && second.runs.get(id) === 1)).toBe(true);
}

describe("invocations that fit the Edge Runtime", () => {
  it("retry-failed-events drains 2,000 events in successive bounded invocations, with no lease expiring and no retry", async () => {
    expect(await dueNow()).toBe(0);
    await bus.emitMany(backlog("edge.swept", 2_000));
    const { retry } = functions(shared);
    const answers = [];
    for (let i = 0; i < 50; i++) {
      const answer = await invoke(retry, {});
      answers.push(answer);
      if (!answer.body.more) break;
    }
    expect(answers).toHaveLength(2_000 / SHARE);
    for (const [i, { body, cpuMs }] of answers.entries()) {
      expect(body.claimed).toBe(SHARE); // a full share each, never more
      expect(body.handler_runs).toBeLessThanOrEqual(6 * SHARE);
      expect(body.batches).toBe(SHARE / DRAIN_DEFAULTS.batchSize);
      expect(body.by_status).toEqual({ completed: SHARE });
      expect(body.stopped).toBe("max_events");
      expect(body.more).toBe(i < answers.length - 1);
      expect(cpuMs).toBeLessThan(2_000); // the platform's limit (these handlers are cheap: see the measure file)
    }
    console.log(`retry-failed-events: ${answers.length} invocations, CPU max ${Math.max(...answers.map((a) => a.cpuMs)).toFixed(0)} ms`);
    await expectDrainedCleanly("edge.swept", 2_000);
    expect(await dueNow()).toBe(0);
  }, 120_000);

  it("a process-event drain wake-up re-wakes itself through pg_net until a 2,000-event backlog is drained", async () => {
    // A stand-in for pg_net (as in tests/bus/wake.test.ts): net.http_post queues a request;
    // this test plays pg_net's worker, taking the oldest request off the queue and sending it.
    await sql.unsafe(`
      create schema net;
      create table net.http_request_queue (id bigserial primary key, url text, body jsonb, headers jsonb);
      create function net.http_post(url text, body jsonb, headers jsonb, timeout_milliseconds int) returns bigint
      language sql as $$ insert into net.http_request_queue (url, body, headers) values (url, body, headers) returning id $$;`);
    await sql`update feyxa.event_bus_settings set functions_url = 'https://example.supabase.co/functions/v1'`;
    const send = async () => {
      const [request] = await sql<{ url: string; body: { event_id: string; drain: boolean } }[]>`
        delete from net.http_request_queue where id = (select min(id) from net.http_request_queue) returning url, body`;
      return request;
    };

    expect(await dueNow()).toBe(0);
    await bus.emitMany(backlog("edge.woken", 2_000)); // one transaction: one wake-up
    const { processEvent } = functions(shared);
    const answers = [];
    for (let request = await send(); request; request = await send()) {
      expect(request.url).toBe("https://example.supabase.co/functions/v1/process-event");
      expect(request.body).toMatchObject({ drain: true });
      answers.push(await invoke(processEvent, request.body));
      if (answers.length > 50) break;
    }
    expect(answers).toHaveLength(2_000 / SHARE);
    for (const [i, { body, cpuMs }] of answers.entries()) {
      // Each wake-up names a due event, processes it, then drains; the two together stay within the bound.
      expect(body).toMatchObject({ processed: true, status: "completed", attempt: 1 });
      expect(1 + body.drained.claimed).toBe(SHARE);
      expect(2 + body.drained.handler_runs).toBeLessThanOrEqual(6 * SHARE);
      expect(body.drained.stopped).toBe("max_events");
      expect(body.drained.more).toBe(i < answers.length - 1);
      expect(cpuMs).toBeLessThan(2_000);
    }
    console.log(`process-event wake-ups: ${answers.length} invocations, CPU max ${Math.max(...answers.map((a) => a.cpuMs)).toFixed(0)} ms`);
    await expectDrainedCleanly("edge.woken", 2_000);
    expect(await dueNow()).toBe(0);

    // FEYXA_DRAIN_REWAKE=off: more is reported, no wake-up asked for.
    await bus.emitMany(backlog("edge.unchained", 5));
    const request = await send();
    const { body } = await invoke(functions({ FEYXA_DRAIN_REWAKE: "off" }).processEvent, { ...request.body, max_events: 2 });
    expect(body.drained).toMatchObject({ claimed: 1, stopped: "max_events", more: true });
    expect(await send()).toBeUndefined();
    expect((await invoke(functions().retry, {})).body).toMatchObject({ claimed: 3, stopped: "empty", more: false });
    expect(await send()).toBeUndefined();
    await sql`update feyxa.event_bus_settings set functions_url = null`;
  }, 120_000);

  it("by default claims for one second of wall clock, which bounds its CPU, however many events that is", async () => {
    // Light handlers: the whole backlog in one call, past the 100 events counts allowed.
    await bus.emitMany(backlog("edge.timed", 500));
    const light = await invoke(functions().retry, {});
    expect(light.body).toMatchObject({ claimed: 500, stopped: "empty", more: false });
    expect(light.cpuMs).toBeLessThan(2_000);
    // Handlers that take 150 ms each: batches of 50 until the second has passed, then the rest later.
    await bus.emitMany(backlog("slow.event", 500));
    const slowCall = await invoke(functions().retry, {});
    expect(slowCall.body).toMatchObject({ stopped: "budget_ms", more: true });
    expect(slowCall.body.duration_ms).toBeGreaterThanOrEqual(DRAIN_DEFAULTS.budgetMs);
    expect(slowCall.body.claimed % DRAIN_DEFAULTS.batchSize).toBe(0);
    expect(slowCall.body.claimed).toBeLessThan(500);
    console.log(`default bound: light, ${light.body.claimed} events in ${light.body.duration_ms} ms (CPU ${light.cpuMs.toFixed(0)} ms); ` +
      `150 ms handlers, ${slowCall.body.claimed} events in ${slowCall.body.duration_ms} ms`);
    for (let i = 0; i < 10 && (await invoke(functions().retry, {})).body.more; i++);
    const [{ n }] = await sql`select count(*)::int as n from feyxa.events_log where event_type in ('edge.timed', 'slow.event') and status = 'completed' and attempt = 1`;
    expect(n).toBe(500 + 500);
  }, 60_000);

  it("bounds by handler runs: no batch is started that could pass max_handler_runs", async () => {
    await bus.emitMany(backlog("edge.runs", 10));
    const { body } = await invoke(functions().retry, { batch_size: 3, max_handler_runs: 9 });
    // 3 events (6 runs), then room for one more two-handler event (8), then none.
    expect(body).toMatchObject({ claimed: 4, batches: 2, handler_runs: 8, stopped: "max_handler_runs", more: true });
    expect((await invoke(functions().retry, {})).body).toMatchObject({ claimed: 6, more: false });
  });

  it("keeps a wall-clock backstop, and always finishes the batch it started", async () => {
    await bus.emitMany(backlog("slow.event", 3));
    const { body } = await invoke(functions().retry, { batch_size: 1, budget_ms: 100 });
    expect(body).toMatchObject({ claimed: 1, batches: 1, by_status: { completed: 1 }, stopped: "budget_ms", more: true });
    expect((await invoke(functions().retry, {})).body).toMatchObject({ claimed: 2, more: false });
  });

  it("takes its limits from the request, else the environment (FEYXA_DRAIN_*), else the defaults", async () => {
    await bus.emitMany(backlog("edge.configured", 12));
    const configured = functions({ FEYXA_DRAIN_MAX_EVENTS: "5", FEYXA_DRAIN_BATCH_SIZE: "2" });
    expect((await invoke(configured.retry, {})).body).toMatchObject({ claimed: 5, batches: 3, stopped: "max_events", more: true });
    expect((await invoke(configured.retry, { max_events: 4, batch_size: 4 })).body).toMatchObject({ claimed: 4, batches: 1, more: true });
    expect((await invoke(functions().retry, {})).body).toMatchObject({ claimed: 3, more: false });

    const misconfigured = await post(functions({ FEYXA_DRAIN_MAX_EVENTS: "lots" }).retry, {});
    expect(misconfigured.status).toBe(500);
    expect((await misconfigured.json()).message).toContain("FEYXA_DRAIN_MAX_EVENTS");
    const budget = await post(functions({ FEYXA_RETRY_BUDGET_MS: "5" }).retry, {});
    expect((await budget.json()).message).toContain("FEYXA_RETRY_BUDGET_MS");
  });

  it("answers 400 naming the field for a limit out of range", async () => {
    const { retry, processEvent } = functions();
    for (const [field, value] of [["max_events", 0], ["max_events", 10_001], ["max_handler_runs", "many"], ["batch_size", 501], ["budget_ms", 1.5]] as const) {
      const res = await post(retry, { [field]: value });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_request", field });
    }
    const res = await post(processEvent, { event_id: uuid(), drain: true, max_handler_runs: 0 });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: "max_handler_runs" });
  });
});
