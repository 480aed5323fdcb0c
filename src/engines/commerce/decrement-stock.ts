import { NonRetriableError, PG } from "../../core/errors.ts";
import { onEvent } from "../define.ts";

/** Immediate re-asks after a deadlock or serialization failure, before the bus's backoff takes over. */
const COLLISION_RETRIES = 3;

/**
 * order.created: take the ordered quantities from stock, once. Out of stock is a business
 * error, not retriable; the SQL has already compensated (order cancelled, escrow refunded,
 * order.cancelled emitted) when this throws, and answers the same on every later call, so a
 * retry after a crash refuses the same way. reserve_stock_for_order is one transaction: one
 * that lost a deadlock or serialization conflict was rolled back whole and is asked again at
 * once (a hot product must not wait for the next retry minutes later).
 */
export const decrementStock = onEvent("commerce.decrement_stock", ["order.created"], async (event, { sql }) => {
  for (let attempt = 0; ; attempt++) {
    try {
      const [{ result }] = await sql<{ result: string }[]>`select reserve_stock_for_order(${event.aggregateId}::uuid) as result`;
      if (result.startsWith("out_of_stock")) throw new NonRetriableError(result.replace("out_of_stock: ", "out of stock: "));
      return;
    } catch (thrown) {
      const code = (thrown as { code?: unknown }).code;
      const collided = code === PG.deadlockDetected || code === PG.serializationFailure;
      if (!collided || attempt >= COLLISION_RETRIES) throw thrown;
    }
  }
});
