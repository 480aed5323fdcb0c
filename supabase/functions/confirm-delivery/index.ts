// Supabase Edge Function `confirm-delivery`: a thin Deno entrypoint over src/marketplace/functions/confirm-delivery.ts.
import { createConfirmDelivery } from "../../../src/marketplace/functions/confirm-delivery.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("confirm-delivery", (bus, auth) => createConfirmDelivery(bus, { auth }));
