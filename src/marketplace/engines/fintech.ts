/**
 * The fintech engine: payments, escrow, payouts. Every handler this file exports is
 * registered (engineHandlers, ./index.ts).
 */
import { NonRetriableError } from "../../bus/index.ts";
import { onEvent } from "./define.ts";

/** order.created: hold the order's total in escrow until delivery (once; none for a cancelled order). */
export const createEscrow = onEvent("fintech.create_escrow", ["order.created"], async (event, { sql }) => {
  await sql`select create_escrow_for_order(${event.aggregateId}::uuid)`;
});

/** payment.paid: the payment is paid and the order's escrow funded (a webhook may be first to know). */
export const updatePaymentStatus = onEvent("fintech.update_payment_status", ["payment.paid"], async (event, { sql }) => {
  await sql`select record_payment_paid(${event.aggregateId}::uuid)`;
});

/**
 * delivery.delivered and delivery.confirmed: release the escrow to the store. Subscribed
 * to both; the SQL releases at most once. An escrow not created or not funded yet is a
 * retriable failure: the other handlers or the payment will catch up. For
 * delivery.delivered it runs after logistics.mark_delivered: the money moves only once the
 * delivery is recorded (delivery.confirmed has no such step; the ignored prerequisite).
 */
export const releaseEscrow = onEvent("fintech.release_escrow", ["delivery.delivered", "delivery.confirmed"], async (event, { sql }) => {
  const [{ result }] = await sql<{ result: string }[]>`select release_escrow_for_order(${event.payload.order_id}::uuid) as result`;
  if (result === "no_escrow") throw new Error(`no escrow yet for order ${event.payload.order_id}`);
  if (result === "not_funded") throw new Error(`the escrow of order ${event.payload.order_id} is not funded yet (payment pending)`);
}, { after: ["logistics.mark_delivered"] });

/** payout.requested: pay it from the store's released balance, or refuse it for overdraft (not retriable). */
export const processPayout = onEvent("fintech.process_payout", ["payout.requested"], async (event, { sql }) => {
  const [outcome] = await sql<{ status: string; reason: string | null }[]>`select * from process_payout(${event.aggregateId}::uuid)`;
  if (outcome.status === "refused") throw new NonRetriableError(`payout refused: ${outcome.reason}`);
});
