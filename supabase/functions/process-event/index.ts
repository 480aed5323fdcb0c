// Supabase Edge Function `process-event`: a thin Deno entrypoint over src/functions/process-event.ts.
import { authorizeClientEmit, clientEmittable } from "../../../src/engines/authorize.ts";
import { eventCatalog } from "../../../src/engines/catalog.ts";
import { createProcessEvent } from "../../../src/functions/process-event.ts";
import { serveFunction } from "../_shared/serve.ts";

serveFunction("process-event", (bus, auth, env) =>
  createProcessEvent(bus, { auth, env, payloadSchemas: eventCatalog, clientEmittable, authorizeEmit: authorizeClientEmit }));
