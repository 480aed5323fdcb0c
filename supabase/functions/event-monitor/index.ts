// Supabase Edge Function `event-monitor`: a thin Deno entrypoint over src/bus/functions/event-monitor.ts.
// Callers are signed in with Supabase Auth; their access tokens are verified with the
// project's JWT secret (HS256) or signing keys (JWKS): see _shared/serve.ts.
import { createEventMonitor } from "../../../src/bus/functions/event-monitor.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("event-monitor", (bus, auth) => createEventMonitor(bus, { auth }));
