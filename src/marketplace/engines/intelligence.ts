/**
 * The intelligence engine: attribution and the stores' figures. Every handler this file
 * exports is registered (engineHandlers, ./index.ts).
 */
import { defineHandler } from "../../bus/index.ts";
import { onEvent, orderIdOf } from "./define.ts";

const text = (value: unknown) => (typeof value === "string" && value.length > 0 ? value.slice(0, 200) : null);

/** order.created: which channel brought this order (utm_* or source/medium/campaign, referrer); 'direct' when none. */
export const attributeConversion = onEvent("intelligence.attribute_conversion", ["order.created"], async (event, { sql }) => {
  const a = event.payload.attribution;
  await sql`
    insert into order_attributions (order_id, store_id, source, medium, campaign, referrer)
    values (${event.aggregateId}::uuid, ${event.tenantId}::uuid, ${text(a.utm_source) ?? text(a.source) ?? "direct"},
            ${text(a.utm_medium) ?? text(a.medium)}, ${text(a.utm_campaign) ?? text(a.campaign)}, ${text(a.referrer)})
    on conflict (order_id) do nothing`;
});

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
