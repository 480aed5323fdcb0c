// Supabase Edge Function `automations-poll` (pg_cron calls it every minute): one round of the automations poller.
import { createAutomationsPoll } from "../../../src/marketplace/functions/automations-poll.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("automations-poll", (bus, auth, env, resolve) => createAutomationsPoll(bus, { auth, env, resolve }));
