// Supabase Edge Function `retry-failed-events` (pg_cron calls it every minute): a thin Deno
// entrypoint over src/bus/functions/retry-failed-events.ts.
import { createRetryFailedEvents } from "../../../src/bus/functions/retry-failed-events.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("retry-failed-events", (bus, auth, env) => createRetryFailedEvents(bus, { auth, env }));
