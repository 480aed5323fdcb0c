// Supabase Edge Function `automations`: a store owner's automations, over src/marketplace/functions/automations.ts.
import { createAutomations } from "../../../src/marketplace/functions/automations.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("automations", (bus, auth) => createAutomations(bus, { auth }));
