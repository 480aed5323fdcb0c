/**
 * `npm run dispatcher`: one dispatcher on its own, beside a running bus (npm start, or
 * the database DATABASE_URL names). Start as many as the load needs: they share the
 * work through the claim's SKIP LOCKED and never run one handler run twice.
 * It neither starts a database nor migrates one.
 *
 * Its settings are those docs/settings.md marks for npm run dispatcher (src/bus/settings.ts),
 * among them DATABASE_URL (default: npm start's embedded database), FEYXA_HANDLERS (a module
 * exporting `handlers: Handler[]`; default: the engines') and FEYXA_METRICS_PORT (its own
 * metrics at /metrics: src/local/dispatcher-metrics.ts).
 * SIGINT / SIGTERM stop it as npm start stops: claim no more, let in-flight handlers
 * finish, give back what is still held after the grace period, close the pool.
 */
import { hostname } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Bus, Dispatcher, dispatcherSettings, type Handler, loggingObserver, openBus, syncRoutes } from "../bus/index.ts";
import { engineHandlersFromEnv, ROUTE_SOURCE } from "../marketplace/engines/index.ts";
import { type LocalSettings, localSettings } from "./config.ts";
import { resolveHost } from "./dns.ts";
import { log, logError, processLogger, runMain, stopOnSignals } from "./log.ts";
import { dispatcherMetrics } from "./dispatcher-metrics.ts";
import { serveNode } from "./node-http.ts";


async function loadHandlers(modulePath: string | undefined): Promise<Handler[]> {
  if (!modulePath) return engineHandlersFromEnv(process.env, resolveHost);
  const loaded = await import(pathToFileURL(resolve(modulePath)).href);
  const handlers = loaded.handlers ?? loaded.default;
  if (!Array.isArray(handlers)) throw new Error(`${modulePath} exports no handlers array (export const handlers = [...])`);
  return handlers;
}

async function main(): Promise<void> {
  const settings = localSettings("dispatcher");
  const logger = processLogger();
  const url = settings.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${settings.FEYXA_PG_PORT}/postgres`;
  const handlers = await loadHandlers(settings.FEYXA_HANDLERS);
  const { bus, sql, close } = openBus(settings, { place: "dispatcher", url, handlers, workerName: "dispatcher", onError: logError, observer: loggingObserver(logger), host: hostname() });
  // The engines' routes, as npm start syncs them; a FEYXA_HANDLERS module's are the operator's rows.
  if (!settings.FEYXA_HANDLERS) await syncRoutes(sql, ROUTE_SOURCE, handlers);
  const dispatcher = new Dispatcher(bus, { ...dispatcherSettings(settings), onError: logError });
  const metrics = await serveMetrics(bus, settings);
  await dispatcher.start();
  // Stopped gracefully from before it says it is ready: a signal sent on that line finds the handler.
  stopOnSignals(async () => {
    metrics?.server.close();
    await dispatcher.stop();
    await close();
  });
  log(`dispatcher ready: ${bus.workerId}, pid ${process.pid}`); // the line scripts wait for (tests/faults, the bench)
  logger.info("start", { process: "dispatcher", worker: bus.workerId, ...(metrics ? { metrics: metrics.url } : {}) });
}

/** The process's metrics endpoint, when FEYXA_METRICS_PORT asks for one; it needs the server key it answers to. */
async function serveMetrics(bus: Bus, settings: LocalSettings) {
  const port = settings.FEYXA_METRICS_PORT;
  if (port === undefined) return undefined;
  const key = settings.FEYXA_SECRET_KEY ?? "";
  if (!key.startsWith("sb_secret_")) throw new Error("FEYXA_METRICS_PORT needs FEYXA_SECRET_KEY (an sb_secret_… key) for the scrape to send");
  const host = settings.FEYXA_METRICS_HOST;
  const server = await serveNode(dispatcherMetrics(bus, [key]), port, host, { requestDeadlineMs: settings.FEYXA_BODY_DEADLINE_MS });
  return { server, url: `http://${host}:${port}/metrics` };
}

runMain(main);
