/**
 * Rate limits through the dispatcher (src/bus/run-attempt.ts, feyxa.take_rate_token): a
 * handler whose bucket is empty does not run; its run is 'deferred' with the wait, the event
 * is pending again without spending a retry, and runs when tokens return; the bucket is
 * shared by every dispatcher; a remote route is limited by its own handler name.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { countingHandler, eventRow, subscribe, testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();
const starts: number[] = [];
const send = defineHandler("rl.send", async () => {
  starts.push(Date.now());
}, { rateLimit: "provider" });
const free = countingHandler("rl.free");
const buses = [testBus(sql, [send, free.handler]), testBus(sql, [send, free.handler]), testBus(sql, [send, free.handler])];

beforeAll(async () => {
  await subscribe(sql, "rl.mail", "rl.send", "rl.free");
  await sql`select feyxa.configure_rate_limit('provider', 4, 2)`; // 4 a second, 2 at once
});

describe("rate limits", () => {
  it("defer runs past the limit without spending retries, across three dispatchers, and run them when tokens return", async () => {
    const ids = (await buses[0].emitMany(Array.from({ length: 10 }, () => ({ event_type: "rl.mail", aggregate_type: "test", aggregate_id: uuid() }))))
      .map((r) => r.eventId);
    const passStarted = Date.now();
    await Promise.all(buses.map((bus) => bus.drainOnce(10)));
    // The burst (2), and a token for each quarter second the pass took (a loaded machine's
    // pass can outlast the first refill): never all ten.
    const refilled = Math.floor(((Date.now() - passStarted) / 1000) * 4);
    const first = await sql`select status, retry_count, next_retry_at from feyxa.events_log where id in ${sql(ids)}`;
    const completed = first.filter((e) => e.status === "completed").length;
    expect(completed).toBeGreaterThanOrEqual(2);
    expect(completed).toBeLessThanOrEqual(2 + refilled);
    expect(completed).toBeLessThan(10);
    for (const e of first.filter((e) => e.status !== "completed")) {
      expect(e).toMatchObject({ status: "pending", retry_count: 0 });
      expect(e.next_retry_at.getTime()).toBeGreaterThan(Date.now() - 1_000);
    }
    const [deferred] = await sql`select status, error_message from feyxa.event_handlers_log where handler_name = 'rl.send' and status = 'deferred' limit 1`;
    expect(deferred.error_message).toMatch(/rate limited \(provider\)/);
    // Until all ran: each attempt of a deferred event runs only the limited handler (the other succeeded).
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      await Promise.all(buses.map((bus) => bus.drainOnce(10)));
      const [{ open }] = await sql`select count(*)::int as open from feyxa.events_log where id in ${sql(ids)} and status <> 'completed'`;
      if (open === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const id of ids) expect(await eventRow(sql, id)).toMatchObject({ status: "completed", retry_count: 0 });
    expect(starts).toHaveLength(10);
    expect(free.total()).toBe(10); // never run twice
    // 10 runs at 4 a second after a burst of 2: at least 2 seconds from the first to the last.
    expect(starts[starts.length - 1] - starts[0]).toBeGreaterThanOrEqual(1_800);
  });

  it("limits a route without code of its own by its handler name", async () => {
    await sql`select feyxa.configure_rate_limit('rl.free', 1, 1)`;
    const bus = testBus(sql, [send, free.handler]);
    await bus.router.invalidate();
    const ids = (await bus.emitMany([1, 2].map(() => ({ event_type: "rl.mail", aggregate_type: "test", aggregate_id: uuid() })))).map((r) => r.eventId);
    await bus.drainOnce(10);
    const runs = await sql`select status from feyxa.event_handlers_log where handler_name = 'rl.free' and event_id in ${sql(ids)} order by status`;
    expect(runs.map((r) => r.status)).toEqual(["deferred", "success"]);
    await sql`select feyxa.configure_rate_limit('rl.free', null)`;
  });
});
