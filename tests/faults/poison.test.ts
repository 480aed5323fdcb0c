/**
 * A poison event (a payload that always fails) among healthy ones: it does not hold them
 * back, and it reaches dead after its retries, with its error. And a worker whose clock is
 * an hour off still cannot take an event another worker holds: leases are read and
 * written with the database's clock only.
 */
import { describe, expect, it, vi } from "vitest";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { useDatabase } from "../support/database.ts";
import { eventRow, handlerRows, subscribe, testBus, uuid } from "../support/bus.ts";

const { sql } = await useDatabase();
await sql`update feyxa.event_bus_settings set retry_base = interval '300 milliseconds', retry_factor = 1, retry_jitter = 0`;

describe("a poison event", () => {
  it("does not slow the others and dies after its retries with its error", async () => {
    const done = new Map<string, number>();
    const handler = defineHandler("poison.check", async (event) => {
      if ((event.payload as { poison?: boolean }).poison) throw new Error("cannot parse amount 'NaN'");
      done.set(event.id, performance.now());
    });
    await subscribe(sql, "poison.event", "poison.check");
    const bus = testBus(sql, [handler]);
    const started = performance.now();
    const [poison] = await bus.emitMany([{ event_type: "poison.event", aggregate_type: "test", aggregate_id: uuid(), payload: { poison: true } }]);
    await bus.emitMany(Array.from({ length: 500 }, (_, i) => ({ event_type: "poison.event", aggregate_type: "test", aggregate_id: uuid(), payload: { i } })));
    const dispatcher = new Dispatcher(bus, { pollIntervalMs: 50, onError: () => {} });
    await dispatcher.start();
    try {
      await expect.poll(() => done.size, { timeout: 20_000, interval: 50 }).toBe(500);
      const healthyMs = Math.max(...done.values()) - started;
      await expect.poll(async () => (await eventRow(sql, poison.eventId)).status, { timeout: 20_000, interval: 100 }).toBe("dead");
      const deadMs = performance.now() - started;
      console.log(`500 healthy events done in ${healthyMs.toFixed(0)} ms; the poison event dead after ${deadMs.toFixed(0)} ms`);
      // All healthy events were done before the poison event had used up its retries.
      expect(healthyMs).toBeLessThan(deadMs);
      const row = await eventRow(sql, poison.eventId);
      expect(row.error_message).toBe("poison.check: cannot parse amount 'NaN'");
      expect((await handlerRows(sql, poison.eventId)).map((r) => r.status)).toEqual(["failed", "failed", "failed", "failed"]);
    } finally {
      await dispatcher.stop();
    }
  }, 60_000);
});

describe("clock skew between workers", () => {
  it("keeps one owner per event: a worker an hour ahead cannot take a held lease", async () => {
    await subscribe(sql, "skew.event", "skew.h");
    const honest = testBus(sql, [], { leaseMs: 30_000 });
    const id = (await honest.emit({ event_type: "skew.event", aggregate_type: "test", aggregate_id: uuid() })).eventId;
    const [held] = await honest.claimDue(10);
    expect(held.id).toBe(id);

    vi.useFakeTimers({ now: Date.now() + 3_600_000, toFake: ["Date"] });
    try {
      const skewed = testBus(sql, [], { leaseMs: 30_000 });
      expect(await skewed.claimDue(10)).toEqual([]);
      expect(await skewed.claimOne(id)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
    expect((await eventRow(sql, id)).locked_by).toBe(honest.workerId);
  });
});
