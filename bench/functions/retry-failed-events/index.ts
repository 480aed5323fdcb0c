// The bus's retry-failed-events (the pg_cron sweep) running the bench's handlers.
import { retryFailedEvents } from "../../../src/bus/functions/index.ts";
import { serveDefinition } from "../../../supabase/functions/_shared/serve.ts";
import { benchApp } from "../bench-app.ts";

serveDefinition(retryFailedEvents, benchApp);
