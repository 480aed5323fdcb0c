/**
 * Local demo actions for the storefront, standing in for the outside world: the payment
 * provider confirming a payment (POST demo-pay) and the courier delivering (POST
 * demo-deliver). Each only changes a row; the status triggers emit the events, exactly as
 * a real provider webhook or courier app would cause. Served by `npm start` only, never
 * deployed: they are not in the list of deployed functions (./index.ts).
 */
import { z } from "zod";
import { type Bus, HttpError, type Sql } from "../../bus/index.ts";
import { defineFunction, type FetchHandler, type FunctionDefinition, json, route, serveFunctions } from "../../bus/functions/index.ts";

function demoAction(name: string, run: (sql: Sql, orderId: string) => Promise<number>): FunctionDefinition {
  return defineFunction({
    name,
    auth: "none", // the storefront page calls them, as it calls the real functions
    routes: [route("POST", {
      body: z.strictObject({ order_id: z.uuid() }), maxBytes: 1024,
      handle: async ({ bus, body: { order_id } }) => {
        if ((await run(bus.sql, order_id)) === 0) {
          throw new HttpError(409, "conflict", "nothing to do: unknown order, or already past this step", "order_id");
        }
        return json({ order_id, ok: true });
      },
    })],
  });
}

export const demoFunctions: readonly FunctionDefinition[] = [
  demoAction("demo-pay", async (sql, orderId) =>
    (await sql`update payments set status = 'paid', provider_ref = ${`demo_${Date.now()}`}
               where order_id = ${orderId}::uuid and status = 'pending'`).count),
  demoAction("demo-deliver", async (sql, orderId) =>
    (await sql`update deliveries set status = 'delivered'
               where order_id = ${orderId}::uuid and status in ('pending', 'shipped')
                 and exists (select 1 from orders o where o.id = ${orderId}::uuid and o.status <> 'cancelled')`).count),
];

export function createDemoFunctions(bus: Bus, onError?: (error: unknown) => void): Record<string, FetchHandler> {
  return serveFunctions(demoFunctions, { bus, onError, auth: () => undefined, env: () => ({}) });
}
