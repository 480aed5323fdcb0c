/**
 * The Deno adapter shared by every Edge Function: builds the bus on the first request
 * (configuration is read per request, as edge runtimes hand it in, not at import) and
 * serves the function's definition through the one pipeline (src/bus/functions/pipeline.ts)
 * with Deno.serve.
 *
 * Supabase's transaction pooler (SUPABASE_DB_URL) does not keep prepared statements,
 * hence `pooler: true` (no prepare, no session settings: src/bus/database-options.ts);
 * and it drops LISTEN, which is why nothing here relies on it.
 */
import {
  Bus,
  databaseBounds,
  errorField,
  type Handler,
  jsonLogger,
  type Logger,
  loggingObserver,
  logLevelFrom,
  openPool,
  syncRoutesOnce,
} from "../../../src/bus/index.ts";
import {
  type AuthConfig,
  authConfigFromEnv,
  type FetchHandler,
  type FunctionDefinition,
  json,
  serveFunction,
  withCors,
} from "../../../src/bus/functions/index.ts";
import { engineHandlersFromEnv, ROUTE_SOURCE } from "../../../src/marketplace/engines/index.ts";
// DNS for the outbound guard: node:dns, which Deno provides as Node does.
import { resolveHost } from "../../../src/local/dns.ts";

/** The functions that run handlers sync the handlers' routes once per isolate, before their first run (docs/deploy.md). */
const ROUTING_FUNCTIONS = new Set(["process-event", "retry-failed-events"]);

/**
 * How callers are verified, read from the function's environment at each request, as a
 * hosted project provides it (authConfigFromEnv): SUPABASE_SECRET_KEYS and
 * SUPABASE_PUBLISHABLE_KEYS (JSON dictionaries), SUPABASE_JWKS or SUPABASE_URL (signing
 * keys), and our own FEYXA_JWT_SECRET (HS256) and FEYXA_SECRET_KEY.
 */
export const authFromEnv = (): AuthConfig | undefined => authConfigFromEnv(Deno.env.toObject());

/** The function's environment, read per request (the FEYXA_DRAIN_* limits, webhook secrets). */
export const envFromDeno = (): Record<string, string | undefined> => Deno.env.toObject();


/**
 * The isolate's JSON log lines (src/bus/telemetry/logger.ts), each naming the function, at
 * FEYXA_LOG_LEVEL: what the hosted project's function logs show, one parseable line per
 * notable event. An unknown level is named in a warning and info is used: a typo in a
 * secret must not turn every request into a 500.
 */
function edgeLogger(name: string): Logger {
  const base = { function: name };
  try {
    return jsonLogger({ level: logLevelFrom(Deno.env.get("FEYXA_LOG_LEVEL")), base });
  } catch (error) {
    const logger = jsonLogger({ base });
    logger.warn("FEYXA_LOG_LEVEL ignored, info used", { error: errorField(error) });
    return logger;
  }
}

/** The app a function runs the handlers of: its handlers, and the source their routes are synced under. */
export interface EdgeApp {
  routeSource: string;
  handlers(env: Record<string, string | undefined>): Handler[];
}

/** The marketplace (src/marketplace/engines): the app every function of supabase/functions/ serves. */
const marketplace: EdgeApp = { routeSource: ROUTE_SOURCE, handlers: (env) => engineHandlersFromEnv(env, resolveHost) };

/**
 * Serves one function of the app's list (src/marketplace/functions/index.ts) with
 * Deno.serve: the generated entrypoint of each supabase/functions/<name>/ calls this. Another
 * app on the bus passes its own handlers (the bench's no-op ones: bench/functions/).
 */
export function serveDefinition(definition: FunctionDefinition, app: EdgeApp = marketplace): void {
  const { name } = definition;
  let handler: FetchHandler | undefined;
  let syncRoutes: (() => Promise<void>) | undefined;
  const logger = edgeLogger(name);
  // The pipeline answers preflights and labels answers; this outer net labels the adapter's own 500 too.
  const serve = withCors(async (request: Request): Promise<Response> => {
    if (!handler) {
      const url = Deno.env.get("SUPABASE_DB_URL");
      if (!url) return json({ error: "misconfigured", message: "SUPABASE_DB_URL is not set for this function" }, 500);
      const sql = openPool(url, databaseBounds(Deno.env.toObject()), { max: 4, pooler: true });
      const handlers = app.handlers(Deno.env.toObject());
      const bus = new Bus({ sql, handlers, workerName: name, observer: loggingObserver(logger) });
      logger.info("start", { process: "edge", worker: bus.workerId, handlers: handlers.length });
      if (ROUTING_FUNCTIONS.has(name)) syncRoutes = syncRoutesOnce(sql, app.routeSource, handlers, onError);
      handler = serveFunction(definition, { bus, auth: authFromEnv, env: envFromDeno, resolve: resolveHost, onError });
    }
    await syncRoutes?.();
    return await handler(request);
  }, onError);
  function onError(error: unknown): void {
    logger.error("error", { error: errorField(error) });
  }
  const port = Deno.env.get("PORT");
  if (port) Deno.serve({ port: Number(port), onListen: () => logger.debug("listening", { port: Number(port) }) }, serve);
  else Deno.serve(serve);
}
