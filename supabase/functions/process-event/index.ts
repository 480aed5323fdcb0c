// Supabase Edge Function `process-event`: a thin Deno entrypoint over src/bus/functions/process-event.ts.
import { authorizeClientEmit, clientEmittable } from "../../../src/marketplace/engines/authorize.ts";
import { eventCatalog } from "../../../src/marketplace/engines/catalog.ts";
import { createProcessEvent } from "../../../src/bus/functions/process-event.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("process-event", (bus, auth, env) =>
  createProcessEvent(bus, { auth, env, payloadSchemas: eventCatalog, clientEmittable, authorizeEmit: authorizeClientEmit }));
