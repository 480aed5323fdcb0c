// Supabase Edge Function `order-status` (GET ?order_id=): an order and what each engine did for it.
import { createOrderStatus } from "../../../src/marketplace/functions/storefront.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("order-status", (bus, auth) => createOrderStatus(bus, { auth }));
