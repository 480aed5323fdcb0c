// Supabase Edge Function `webhooks`: a thin Deno entrypoint over src/bus/functions/webhooks.ts.
// Providers sign their requests (verify_jwt = false); the secrets are read at each request.
import { createWebhooks } from "../../../src/bus/functions/webhooks.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("webhooks", (bus, _auth, env) => createWebhooks(bus, { env }));
