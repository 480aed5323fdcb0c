// Supabase Edge Function `checkout`: a thin Deno entrypoint over src/marketplace/functions/checkout.ts.
import { createCheckout } from "../../../src/marketplace/functions/checkout.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("checkout", (bus, auth) => createCheckout(bus, { auth }));
