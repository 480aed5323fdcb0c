import { formatMoney } from "../format.ts";
import { onEvent } from "../define.ts";
import { notify } from "../../services/notify.ts";

/** order.created: tell the store, in its dashboard, that an order came in. */
export const createOrderNotification = onEvent("commerce.create_notification", ["order.created"], async (event, ctx) => {
  const { order_number, total_minor, currency, items } = event.payload;
  await notify(ctx, {
    storeId: event.tenantId,
    kind: "order.created",
    title: `New order ${order_number}`,
    body: `${items.length} line(s), ${formatMoney(total_minor, currency)}`,
    data: { order_id: event.aggregateId },
  });
});
