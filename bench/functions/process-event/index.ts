// The bus's process-event (src/bus/functions/process-event.ts) running the bench's handlers: the Supabase path's consumer.
import { processEventFunction } from "../../../src/bus/functions/index.ts";
import { serveDefinition } from "../../../supabase/functions/_shared/serve.ts";
import { benchApp } from "../bench-app.ts";

serveDefinition(processEventFunction(), benchApp);
