/**
 * `npm run dispatcher`: one dispatcher on its own, beside a running bus (npm start, or
 * the database DATABASE_URL names). Start as many as the load needs: they share the
 * work through the claim's SKIP LOCKED and never run one handler run twice.
 * It neither starts a database nor migrates one.
 *
 * Settings (environment): DATABASE_URL (default: npm start's embedded database),
 * FEYXA_HANDLERS (a module exporting `handlers: Handler[]`; default: the engines'),
 * FEYXA_BATCH_SIZE, FEYXA_CONCURRENCY, FEYXA_POLL_MS, FEYXA_LEASE_MS,
 * FEYXA_HANDLER_TIMEOUT_MS, FEYXA_POOL_SIZE, FEYXA_DB_* (src/bus/database-options.ts), FEYXA_OUTBOUND_ALLOW (docs/security.md),
 * FEYXA_LOG_LEVEL (its JSON lines: docs/observability.md), FEYXA_METRICS_PORT (its own metrics at
 * /metrics there, on FEYXA_METRICS_HOST, default 127.0.0.1, for FEYXA_SECRET_KEY: src/local/dispatcher-metrics.ts).
 * SIGINT / SIGTERM stop it as npm start stops: claim no more, let in-flight handlers
 * finish, give back what is still held after the grace period, close the pool.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Bus, databaseBounds, Dispatcher, type Handler, loggingObserver, openPool, syncRoutes } from "../bus/index.ts";
import { engineHandlersFromEnv, ROUTE_SOURCE } from "../marketplace/engines/index.ts";
import { positiveInt, readConfig } from "./config.ts";
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
  const env = process.env;
  const logger = processLogger();
  const config = readConfig(env);
  const url = config.databaseUrl ?? `postgres://postgres:postgres@127.0.0.1:${config.pgPort}/postgres`;
  const bounds = databaseBounds(env, { handlerTimeoutMs: config.handlerTimeoutMs });
  const sql = openPool(url, bounds, { max: positiveInt(env.FEYXA_POOL_SIZE, 6, "FEYXA_POOL_SIZE") });
  const leases = openPool(url, bounds, { max: 1 }); // renewals never wait behind handlers
  const handlers = await loadHandlers(env.FEYXA_HANDLERS);
  // The engines' routes, as npm start syncs them; a FEYXA_HANDLERS module's are the operator's rows.
  if (!env.FEYXA_HANDLERS) await syncRoutes(sql, ROUTE_SOURCE, handlers);
  const bus = new Bus({
    sql,
    leaseSql: leases,
    handlers,
    workerName: "dispatcher",
    leaseMs: config.leaseMs,
    handlerTimeoutMs: config.handlerTimeoutMs,
    onError: logError,
    observer: loggingObserver(logger),
  });
  const dispatcher = new Dispatcher(bus, {
    batchSize: positiveInt(env.FEYXA_BATCH_SIZE, 50, "FEYXA_BATCH_SIZE"),
    concurrency: positiveInt(env.FEYXA_CONCURRENCY, 2, "FEYXA_CONCURRENCY"),
    pollIntervalMs: positiveInt(env.FEYXA_POLL_MS, 2_000, "FEYXA_POLL_MS"),
    onError: logError,
  });
  const metrics = await serveMetrics(bus, env);
  await dispatcher.start();
  log(`dispatcher ready: ${bus.workerId}, pid ${process.pid}`); // the line scripts wait for (tests/faults, the bench)
  logger.info("start", { process: "dispatcher", worker: bus.workerId, ...(metrics ? { metrics: metrics.url } : {}) });

  stopOnSignals(async () => {
    metrics?.server.close();
    await dispatcher.stop();
    await Promise.all([sql.end({ timeout: 5 }), leases.end({ timeout: 5 })]);
  });
}

/** The process's metrics endpoint, when FEYXA_METRICS_PORT asks for one; it needs the server key it answers to. */
async function serveMetrics(bus: Bus, env: NodeJS.ProcessEnv) {
  if (!env.FEYXA_METRICS_PORT) return undefined;
  const port = positiveInt(env.FEYXA_METRICS_PORT, 0, "FEYXA_METRICS_PORT");
  const key = env.FEYXA_SECRET_KEY ?? "";
  if (!key.startsWith("sb_secret_")) throw new Error("FEYXA_METRICS_PORT needs FEYXA_SECRET_KEY (an sb_secret_… key) for the scrape to send");
  const host = env.FEYXA_METRICS_HOST || "127.0.0.1";
  const server = await serveNode(dispatcherMetrics(bus, [key]), port, host);
  return { server, url: `http://${host}:${port}/metrics` };
}

runMain(main);
