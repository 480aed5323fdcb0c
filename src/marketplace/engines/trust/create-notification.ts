import { onEvent } from "../define.ts";
import { notify } from "../../services/notify.ts";

/** ticket.created: tell the store a customer needs help. */
export const createTicketNotification = onEvent("trust.create_notification", ["ticket.created"], async (event, ctx) => {
  await notify(ctx, {
    storeId: event.tenantId,
    kind: "ticket.created",
    title: `New support ticket: ${event.payload.subject}`,
    body: `From ${event.payload.customer_email}`,
    data: { ticket_id: event.aggregateId, order_id: event.payload.order_id ?? null },
  });
});
