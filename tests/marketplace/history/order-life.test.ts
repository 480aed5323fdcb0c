/**
 * An order's life (src/marketplace/history/order-life.ts) rebuilt from its stream by the
 * bus's rebuild, with snapshots, so that rebuilding a long history reads only its tail.
 */
import { describe, expect, it } from "vitest";
import { appendToStream, rebuild } from "../../../src/bus/index.ts";
import { orderLife } from "../../../src/marketplace/history/order-life.ts";
import { uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";

const { sql } = await useDatabase();
const order = (aggregateId: string, type: string, payload: Record<string, unknown> = {}) =>
  ({ event_type: type, aggregate_type: "order", aggregate_id: aggregateId, payload });

describe("an order's life", () => {
  it("is rebuilt from its stream, and with snapshots from the tail of a long history", async () => {
    const id = uuid();
    await appendToStream(sql, order(id, "order.created", { total_minor: 25_000, currency: "XOF" }), 0);
    let version = 1;
    for (const type of ["order.paid", ...Array(118).fill("order.noted"), "order.delivered", "order.confirmed"]) {
      await appendToStream(sql, order(id, type), version++);
    }
    await appendToStream(sql, order(id, "order.paid_out"), version++);
    const first = await rebuild(sql, "order", id, orderLife, 50);
    expect(first).toMatchObject({ version: 123, eventsRead: 123, fromSnapshot: 0 });
    expect(first.state).toMatchObject({ status: "paid_out", total_minor: 25_000, currency: "XOF", notes: 118 });
    expect(first.state.timeline.map((t) => t.type).filter((t) => t !== "order.noted")).toEqual([
      "order.created", "order.paid", "order.delivered", "order.confirmed", "order.paid_out",
    ]);

    await appendToStream(sql, order(id, "order.noted"), version++);
    const second = await rebuild(sql, "order", id, orderLife, 50);
    expect(second).toMatchObject({ version: 124, eventsRead: 1, fromSnapshot: 123 });
    expect(second.state.notes).toBe(119);
    expect(second.state.status).toBe("paid_out");
  });
});
