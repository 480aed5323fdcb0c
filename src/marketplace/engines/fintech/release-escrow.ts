import { onEvent } from "../define.ts";

/**
 * delivery.delivered and delivery.confirmed: release the escrow to the store. Subscribed
 * to both; the SQL releases at most once. An escrow not created or not funded yet is a
 * retriable failure: the other handlers or the payment will catch up.
 */
export const releaseEscrow = onEvent("fintech.release_escrow", ["delivery.delivered", "delivery.confirmed"], async (event, { sql }) => {
  const [{ result }] = await sql<{ result: string }[]>`select release_escrow_for_order(${event.payload.order_id}::uuid) as result`;
  if (result === "no_escrow") throw new Error(`no escrow yet for order ${event.payload.order_id}`);
  if (result === "not_funded") throw new Error(`the escrow of order ${event.payload.order_id} is not funded yet (payment pending)`);
});
