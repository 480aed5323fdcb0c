import { onEvent } from "../define.ts";

/** order.created: hold the order's total in escrow until delivery (once; none for a cancelled order). */
export const createEscrow = onEvent("fintech.create_escrow", ["order.created"], async (event, { sql }) => {
  await sql`select create_escrow_for_order(${event.aggregateId}::uuid)`;
});
