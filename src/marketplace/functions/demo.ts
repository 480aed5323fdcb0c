/**
 * Local demo actions for the storefront, standing in for the outside world: the payment
 * provider confirming a payment (POST demo-pay) and the courier delivering (POST
 * demo-deliver). Each only changes a row; the status triggers emit the events, exactly as
 * a real provider webhook or courier app would cause. Served by `npm start` only, never deployed.
 */
import { z } from "zod";
import type { Bus } from "../../bus/bus.ts";
import { withCorsAll } from "../../bus/cors.ts";
import { HttpError } from "../../bus/errors.ts";
import { type FetchHandler, json, readJson, requireMethod, withErrors } from "../../bus/http.ts";

const orderInput = z.strictObject({ order_id: z.uuid() });

function demoAction(bus: Bus, run: (orderId: string) => Promise<number>, onError?: (error: unknown) => void): FetchHandler {
  return withErrors(async (request) => {
    requireMethod(request, "POST");
    const { order_id } = await readJson(request, orderInput, { maxBytes: 1024 });
    if ((await run(order_id)) === 0) {
      throw new HttpError(409, "conflict", "nothing to do: unknown order, or already past this step", "order_id");
    }
    return json({ order_id, ok: true });
  }, onError);
}

export function createDemoFunctions(bus: Bus, onError?: (error: unknown) => void): Record<string, FetchHandler> {
  return withCorsAll({ // the storefront page calls them, as it calls the real functions
    "demo-pay": demoAction(bus, async (orderId) =>
      (await bus.sql`update payments set status = 'paid', provider_ref = ${`demo_${Date.now()}`}
                     where order_id = ${orderId}::uuid and status = 'pending'`).count, onError),
    "demo-deliver": demoAction(bus, async (orderId) =>
      (await bus.sql`update deliveries set status = 'delivered'
                     where order_id = ${orderId}::uuid and status in ('pending', 'shipped')
                       and exists (select 1 from orders o where o.id = ${orderId}::uuid and o.status <> 'cancelled')`).count, onError),
  }, onError);
}
