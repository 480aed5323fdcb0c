/**
 * The bench's app on the Edge Functions (bench/workloads/supabase-path.ts): the bus's own
 * functions, served by the same Deno adapter as the marketplace's (supabase/functions/_shared/serve.ts),
 * running the bench's four no-op handlers instead of the marketplace's engines.
 */
import type { EdgeApp } from "../../supabase/functions/_shared/serve.ts";
import { handlers } from "../noop-handlers.ts";

export const benchApp: EdgeApp = { routeSource: "bench", handlers: () => handlers };
