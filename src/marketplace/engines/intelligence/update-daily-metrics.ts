import { defineHandler } from "../../../bus/define-handler.ts";
import { orderIdOf } from "../define.ts";

/**
 * order.* and payment.*: recompute the store's figures for the order's day. A
 * recomputation, so any order of arrival and any number of runs give the true figures.
 * Any order or payment event will do, catalogued or not, hence no payload schema here.
 */
export const updateDailyMetrics = defineHandler("intelligence.update_daily_metrics", async (event, { sql }) => {
  const orderId = orderIdOf(event);
  if (!orderId) return;
  await sql`
    select refresh_store_daily_metrics(o.store_id, (o.created_at at time zone 'UTC')::date)
    from orders o where o.id = ${orderId}::uuid`;
}, { on: ["order.*", "payment.*"] });
