/** The logistics engine: deliveries. Every handler this file exports is registered (engineHandlers, ./index.ts). */
import { onEvent } from "./define.ts";

/** delivery.delivered: record when it arrived and move the order to delivered. */
export const markDelivered = onEvent("logistics.mark_delivered", ["delivery.delivered"], async (event, { sql }) => {
  await sql`select mark_delivery_delivered(${event.aggregateId}::uuid)`;
});
