/**
 * A stock reservation that lost a deadlock or serialization conflict (its one transaction
 * rolled back whole) is asked again at once by commerce.decrement_stock, a few times, rather
 * than failing the run and leaving a hot product's order for the bus's retry minutes later.
 */
import { describe, expect, it } from "vitest";
import type { BusEvent, Sql } from "../../../src/bus/types.ts";
import { decrementStock } from "../../../src/marketplace/engines/commerce.ts";
import { uuid } from "../../support/bus.ts";

/** A database whose first `collisions` calls fail with `code`, then answers `result`. */
function collidingSql(code: string, collisions: number, result: string) {
  let calls = 0;
  const sql = (async () => {
    calls++;
    if (calls <= collisions) throw Object.assign(new Error("collided"), { code });
    return [{ result }];
  }) as unknown as Sql;
  return { sql, calls: () => calls };
}

const event = {
  id: uuid(), type: "order.created", aggregateType: "order", aggregateId: uuid(), tenantId: null, attempt: 1, createdAt: new Date(),
  payload: { order_number: "FX-1", total_minor: 100, currency: "XOF", customer_email: "a@example.com", items: [{ product_id: uuid(), quantity: 1, unit_price_minor: 100 }], payment_method: "card" },
} as unknown as BusEvent;
const run = (sql: Sql) => decrementStock.run(event, { sql, handlerName: decrementStock.name, idempotencyKey: "k", signal: new AbortController().signal });

describe("commerce.decrement_stock after a database collision", () => {
  for (const code of ["40P01", "40001"]) {
    it(`asks again at once after ${code}, and succeeds`, async () => {
      const db = collidingSql(code, 2, "reserved");
      await run(db.sql);
      expect(db.calls()).toBe(3);
    });
  }

  it("gives up after a few collisions (the bus retries later), and never retries other errors", async () => {
    const stuck = collidingSql("40P01", 100, "reserved");
    await expect(run(stuck.sql)).rejects.toMatchObject({ code: "40P01" });
    expect(stuck.calls()).toBe(4);
    const other = collidingSql("22023", 100, "reserved");
    await expect(run(other.sql)).rejects.toMatchObject({ code: "22023" });
    expect(other.calls()).toBe(1);
  });

  it("an out-of-stock answer is refused at once, not re-asked", async () => {
    const db = collidingSql("40P01", 0, "out_of_stock: Rare: 2 wanted, 1 in stock");
    await expect(run(db.sql)).rejects.toMatchObject({ name: "NonRetriableError", message: "out of stock: Rare: 2 wanted, 1 in stock" });
    expect(db.calls()).toBe(1);
  });
});
