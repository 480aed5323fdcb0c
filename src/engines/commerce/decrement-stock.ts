import { NonRetriableError } from "../../core/errors.ts";
import { onEvent } from "../define.ts";

/**
 * order.created: take the ordered quantities from stock, once. Out of stock is a business
 * error, not retriable; the SQL has already compensated (order cancelled, escrow refunded,
 * order.cancelled emitted) when this throws.
 */
export const decrementStock = onEvent("commerce.decrement_stock", ["order.created"], async (event, { sql }) => {
  const [{ result }] = await sql<{ result: string }[]>`select reserve_stock_for_order(${event.aggregateId}::uuid) as result`;
  if (result.startsWith("out_of_stock")) throw new NonRetriableError(result.replace("out_of_stock: ", "out of stock: "));
});
