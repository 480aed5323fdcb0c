import { onEvent } from "../define.ts";

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
