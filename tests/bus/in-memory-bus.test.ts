/** The in-process bus runs handler code by the real bus's rules, with no database. */
import { describe, expect, it } from "vitest";
import { defineHandler, NonRetriableError } from "../../src/bus/index.ts";
import { InMemoryBus } from "../../src/bus/testing.ts";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";

const newEvent = (type: string, payload = {}) => ({ event_type: type, aggregate_type: "order", aggregate_id: crypto.randomUUID(), payload });

describe("the in-memory bus", () => {
  it("fans out by pattern, retries only what failed, and dead-letters by the same rules", async () => {
    const runs: string[] = [];
    let flaky = 2;
    const handlers = [
      defineHandler("shop.count", async (e) => void runs.push(`count:${e.attempt}`)),
      defineHandler("shop.flaky", async () => {
        if (flaky-- > 0) throw new Error("try again");
      }),
      defineHandler("shop.refuse", async () => {
        throw new NonRetriableError("never");
      }),
    ];
    const bus = new InMemoryBus(handlers, [
      { pattern: "order.*", handler: "shop.count" }, { pattern: "order.created", handler: "shop.flaky" }, { pattern: "order.refused", handler: "shop.refuse" },
    ]);
    const created = bus.emit({ ...newEvent("order.created"), idempotency_key: "k1" });
    expect(bus.emit({ ...newEvent("order.created"), idempotency_key: "k1" })).toEqual({ eventId: created.eventId, inserted: false });
    const refused = bus.emit(newEvent("order.refused"));

    await bus.drain();
    expect(bus.status(created.eventId)).toBe("failed");
    expect(bus.status(refused.eventId)).toBe("dead");
    expect(bus.error(refused.eventId)).toContain("NonRetriableError: never");
    await bus.drain();
    await bus.drain();
    expect(bus.status(created.eventId)).toBe("completed");
    expect(bus.attempts(created.eventId).map((a) => a.map((r) => `${r.handler_name}:${r.status}`))).toEqual([
      ["shop.count:success", "shop.flaky:failed"], ["shop.count:skipped", "shop.flaky:failed"], ["shop.count:skipped", "shop.flaky:success"],
    ]);
    expect(runs.filter((r) => r.startsWith("count"))).toEqual(["count:1", "count:1"]); // once per event: created and refused
  });

  it("routes by what the handlers declare (their on) when given no subscriptions, as the database would after the sync", async () => {
    const runs: string[] = [];
    const bus = new InMemoryBus([
      defineHandler("shop.any_order", async (e) => void runs.push(`any:${e.type}`), { on: ["order.*"] }),
      defineHandler("shop.paid", async (e) => void runs.push(`paid:${e.type}`), { on: ["payment.paid"] }),
      defineHandler("shop.unrouted", async (e) => void runs.push(`unrouted:${e.type}`)),
    ]);
    bus.emit(newEvent("order.created"));
    bus.emit(newEvent("payment.paid"));
    await bus.drain();
    expect(runs.sort()).toEqual(["any:order.created", "paid:payment.paid"]);
  });

  it("says plainly when a handler needs the database", async () => {
    const bus = new InMemoryBus(engineHandlers(), [{ pattern: "order.created", handler: "fintech.create_escrow" }]);
    const { eventId } = bus.emit(newEvent("order.created", {
      order_number: "FX-1", total_minor: 100, currency: "XOF", customer_email: "a@example.com",
      items: [{ product_id: crypto.randomUUID(), quantity: 1, unit_price_minor: 100 }], payment_method: "card",
    }));
    await bus.drain();
    expect(bus.attempts(eventId)[0][0].error_message).toContain("the in-memory bus has no database");
  });
});
