/**
 * The stock decision of an order, asked of reserve_stock_for_order by commerce.decrement_stock:
 * made once, under the order's lock, and answered the same to every later ask (a retry after
 * a crash). One that lost a deadlock or serialization conflict was rolled back whole and is
 * asked again at once (a hot product must not wait for the bus's next retry, seconds or
 * minutes later).
 */
import { PG, type Queryable } from "../../bus/index.ts";

/** Immediate re-asks after a deadlock or serialization failure, before the bus's backoff takes over. */
const COLLISION_RETRIES = 3;

/** 'reserved', 'already_reserved', 'cancelled' (for another reason), or 'out_of_stock: <what is short>'. */
export type StockDecision = "reserved" | "already_reserved" | "cancelled" | `out_of_stock: ${string}`;

export async function reserveStock(sql: Queryable, orderId: string): Promise<StockDecision> {
  for (let attempt = 0; ; attempt++) {
    try {
      const [{ result }] = await sql<{ result: StockDecision }[]>`select reserve_stock_for_order(${orderId}::uuid) as result`;
      return result;
    } catch (thrown) {
      const code = (thrown as { code?: unknown }).code;
      const collided = code === PG.deadlockDetected || code === PG.serializationFailure;
      if (!collided || attempt >= COLLISION_RETRIES) throw thrown;
    }
  }
}
