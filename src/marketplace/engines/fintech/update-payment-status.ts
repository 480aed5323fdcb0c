import { onEvent } from "../define.ts";

/** payment.paid: the payment is paid and the order's escrow funded (a webhook may be first to know). */
export const updatePaymentStatus = onEvent("fintech.update_payment_status", ["payment.paid"], async (event, { sql }) => {
  await sql`select record_payment_paid(${event.aggregateId}::uuid)`;
});
