/**
 * The Deno adapter shared by every Edge Function: builds the bus on the first request
 * (configuration is read per request, as edge runtimes hand it in, not at import) and
 * serves the function's definition through the one pipeline (src/bus/functions/pipeline.ts)
 * with Deno.serve.
 *
 * The bus is built as npm start and the dispatcher build theirs (openBus), from the settings
 * (src/bus/settings.ts and the app's), parsed from the function's environment then: a value
 * out of range is refused, each request answering a 500 that names it until it is fixed; a
 * variable set (a secret) that does not apply to Edge Functions is named in a warning line.
 *
 * Supabase's transaction pooler (SUPABASE_DB_URL) does not keep prepared statements,
 * hence `pooler: true` (no prepare, no session settings: src/bus/database-options.ts);
 * and it drops LISTEN, which is why nothing here relies on it.
 */
import {
  BUS_SETTINGS,
  busSetting,
  busSettings,
  type Declarations,
  errorField,
  type Handler,
  ignoredSettings,
  jsonLogger,
  type Logger,
  loggingObserver,
  openBus,
  parseSettings,
  SettingsError,
  syncRoutesOnce,
} from "../../../src/bus/index.ts";
import {
  type AuthConfig,
  authConfigFromEnv,
  type FetchHandler,
  type FunctionDefinition,
  serveFunction,
  withCors,
} from "../../../src/bus/functions/index.ts";
import { engineHandlersFromEnv, ROUTE_SOURCE } from "../../../src/marketplace/engines/index.ts";
import { MARKETPLACE_SETTINGS } from "../../../src/marketplace/settings.ts";
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


/** The app a function runs the handlers of: its handlers, the source their routes are synced under, its own settings. */
export interface EdgeApp {
  routeSource: string;
  handlers(env: Record<string, string | undefined>): Handler[];
  /** Declared as the bus's are (src/bus/define-settings.ts): parsed with them, named when set where they do not apply. */
  settings?: Declarations;
}

/** The marketplace (src/marketplace/engines): the app every function of supabase/functions/ serves. */
const marketplace: EdgeApp = { routeSource: ROUTE_SOURCE, handlers: (env) => engineHandlersFromEnv(env, resolveHost), settings: MARKETPLACE_SETTINGS };

interface Built {
  handler: FetchHandler;
  syncRoutes?: () => Promise<void>;
}

/**
 * Serves one function of the app's list (src/marketplace/functions/index.ts) with
 * Deno.serve: the generated entrypoint of each supabase/functions/<name>/ calls this. Another
 * app on the bus passes its own handlers (the bench's no-op ones: bench/functions/).
 */
export function serveDefinition(definition: FunctionDefinition, app: EdgeApp = marketplace): void {
  const { name } = definition;
  let built: Built | undefined;
  // The isolate's JSON log lines (src/bus/telemetry/logger.ts), each naming the function: at
  // info until the settings are read, then at FEYXA_LOG_LEVEL.
  let logger: Logger = jsonLogger({ base: { function: name } });
  // The pipeline answers preflights and labels answers; this outer net labels the adapter's own 500 too.
  const serve = withCors(async (request: Request): Promise<Response> => {
    built ??= build(Deno.env.toObject());
    await built.syncRoutes?.();
    return await built.handler(request);
  }, onError);

  /** The bus and the function, from the settings; throws SettingsError (a 500 naming each bad value), and builds again at the next request. */
  function build(env: Record<string, string | undefined>): Built {
    const settings = busSettings(env, "edge");
    if (app.settings) parseSettings(app.settings, env, "edge"); // the app's values are refused here too
    logger = jsonLogger({ level: settings.FEYXA_LOG_LEVEL, base: { function: name } });
    if (!settings.SUPABASE_DB_URL) throw new SettingsError(["SUPABASE_DB_URL is not set for this function"]);
    for (const ignored of ignoredSettings([BUS_SETTINGS, app.settings ?? {}], env, "edge")) logger.warn("setting ignored", { ...ignored });
    const handlers = app.handlers(env);
    const { bus, sql } = openBus(settings, {
      place: "edge", url: settings.SUPABASE_DB_URL, pooler: true, handlers, workerName: name, onError, observer: loggingObserver(logger),
    });
    logger.info("start", { process: "edge", worker: bus.workerId, handlers: handlers.length });
    return {
      handler: serveFunction(definition, { bus, auth: authFromEnv, env: envFromDeno, resolve: resolveHost, onError }),
      syncRoutes: ROUTING_FUNCTIONS.has(name) ? syncRoutesOnce(sql, app.routeSource, handlers, onError) : undefined,
    };
  }
  function onError(error: unknown): void {
    logger.error("error", { error: errorField(error) });
  }
  const port = busSetting(Deno.env.toObject(), "PORT");
  if (port) Deno.serve({ port, onListen: () => logger.debug("listening", { port }) }, serve);
  else Deno.serve(serve);
}
