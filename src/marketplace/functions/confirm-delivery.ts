/**
 * confirm-delivery (POST): the buyer confirms they received a delivered order. The
 * function only changes the delivery (confirm_delivery in SQL); its status trigger emits
 * delivery.confirmed, which releases the escrow and writes the audit log.
 * A signed-in buyer confirms their own order (orders.customer_id); a guest order is
 * confirmed with its id and the order's email address; the server may confirm any.
 */
import { z } from "zod";
import { HttpError } from "../../bus/index.ts";
import { defineFunction, json, route } from "../../bus/functions/index.ts";

const confirmInput = z.strictObject({ order_id: z.uuid(), customer_email: z.email().max(254).optional() });

export const confirmDelivery = defineFunction({
  name: "confirm-delivery",
  auth: "anyone",
  routes: [route("POST", {
    body: confirmInput, maxBytes: 4096,
    handle: async ({ bus, caller, body: input }) => {
      const buyer = caller.kind === "user" ? caller.claims.sub : null;
      if (!buyer && !input.customer_email) {
        throw new HttpError(400, "invalid_request", "customer_email: required for a guest order (or sign in)", "customer_email");
      }
      const [row] = await bus.sql<{ status: string }[]>`
        select confirm_delivery_as(${input.order_id}::uuid, ${buyer}::uuid, ${input.customer_email ?? null}, ${caller.kind === "server"}) as status`;
      return json({ order_id: input.order_id, delivery_status: row.status });
    },
  })],
});
