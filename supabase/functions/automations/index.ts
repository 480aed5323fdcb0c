// Supabase Edge Function `automations`: a store owner's automations, over src/functions/automations.ts.
import { createAutomations } from "../../../src/functions/automations.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("automations", (bus, auth) => createAutomations(bus, { auth }));
