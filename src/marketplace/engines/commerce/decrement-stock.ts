import { NonRetriableError } from "../../../bus/errors.ts";
import { onEvent } from "../define.ts";
import { reserveStock } from "./reserve-stock.ts";

/**
 * order.created: take the ordered quantities from stock, once. Out of stock is a business
 * error, not retriable; the SQL has already compensated (order cancelled, escrow refunded,
 * order.cancelled emitted) when this throws, and answers the same on every later call, so a
 * retry after a crash refuses the same way, and so does this handler when
 * commerce.send_confirmation_email asked for the decision first.
 */
export const decrementStock = onEvent("commerce.decrement_stock", ["order.created"], async (event, { sql }) => {
  const decision = await reserveStock(sql, event.aggregateId);
  if (decision.startsWith("out_of_stock")) throw new NonRetriableError(decision.replace("out_of_stock: ", "out of stock: "));
});
