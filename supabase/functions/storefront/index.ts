// Supabase Edge Function `storefront` (GET): the stores and their products, over src/marketplace/functions/storefront.ts.
import { createStorefront } from "../../../src/marketplace/functions/storefront.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("storefront", (bus, auth) => createStorefront(bus, { auth }));
