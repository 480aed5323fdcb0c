import { onEvent } from "../define.ts";

/** payment.paid: the order is paid (moving forward only: a delivered order stays delivered). */
export const updateOrderStatus = onEvent("commerce.update_order_status", ["payment.paid"], async (event, { sql }) => {
  await sql`select advance_order_status(${event.payload.order_id}::uuid, 'paid')`;
});
