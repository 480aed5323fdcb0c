/**
 * `npm start`: the whole bus on one machine, no Docker. Starts (or connects to) the
 * database, applies the migrations, then serves the functions gateway, runs the
 * dispatcher and the scheduler (pg_cron's jobs, at their one period). Everything is built
 * from the settings parsed at start (src/local/config.ts; the list: docs/settings.md).
 * Ctrl-C stops claiming, lets in-flight handlers finish, gives back what is still held,
 * and closes everything in order.
 */
import { hostname } from "node:os";
import { resolve } from "node:path";
import postgres from "postgres";
import { BUS_SCHEDULES, Dispatcher, dispatcherSettings, loggingObserver, openBus, saveOutboundAllow, syncRoutes } from "../bus/index.ts";
import { createGateway } from "../bus/functions/index.ts";
import { engineHandlersFromEnv, ROUTE_SOURCE } from "../marketplace/engines/index.ts";
import { createDemoFunctions } from "../marketplace/functions/demo.ts";
import { createFunctions } from "../marketplace/functions/index.ts";
import { MARKETPLACE_SCHEDULES } from "../marketplace/settings.ts";
import { localSettings } from "./config.ts";
import { resolveHost } from "./dns.ts";
import { ensureLocalAdmin, ensureLocalBuyer, localJwtSecret, localSecretKey, signAccessToken } from "./dev-login.ts";
import { migrate } from "./migrate.ts";
import { serveNode } from "./node-http.ts";
import { openDatabase } from "./postgres.ts";
import { every } from "./scheduler.ts";
import { seedDemo } from "./seed-demo.ts";
import { buildPages, servePages, withPages } from "./web.ts";
import { log, logError, processLogger, runMain, stopOnSignals } from "./log.ts";


async function main(): Promise<void> {
  const settings = localSettings("start");
  const logger = processLogger();
  const dataDir = resolve(settings.FEYXA_DATA_DIR);
  const database = await openDatabase({ url: settings.DATABASE_URL, dataDir, port: settings.FEYXA_PG_PORT });
  log(database.kind === "embedded"
    ? `postgres     embedded on port ${settings.FEYXA_PG_PORT}, data in ${dataDir}`
    : "postgres     DATABASE_URL");

  // Migrations may run longer than any request may: their own connection, without the pool's bounds.
  const migrator = postgres(database.url, { max: 1, onnotice: () => {} });
  const applied = await migrate(migrator).finally(() => migrator.end());
  log(`migrations   ${applied.length ? `applied ${applied.length}, up to ${applied.at(-1)}` : "up to date"}`);
  // The gateway and the dispatcher share the bus's pool.
  const handlers = engineHandlersFromEnv(process.env, resolveHost);
  const { bus, sql, close } = openBus(settings, { place: "start", url: database.url, handlers, workerName: "local", onError: logError, observer: loggingObserver(logger), host: hostname() });
  const routes = await syncRoutes(sql, ROUTE_SOURCE, handlers);
  log(`routes       from the handlers' code: ${routes.added} added, ${routes.revived} revived, ${routes.retired} retired`);
  const dispatcher = new Dispatcher(bus, { ...dispatcherSettings(settings), onError: logError });
  await dispatcher.start();
  log(`dispatcher   listening on NOTIFY feyxa_events, polling every ${settings.FEYXA_POLL_MS / 1000} s, claiming ${settings.FEYXA_BATCH_SIZE} × ${settings.FEYXA_CONCURRENCY}`);

  // Loopback is not allowed by default, here too. Locally, one variable allows a host both
  // ways: saving URLs that name it (the database's list) and calling them (the process's).
  const allow = settings.FEYXA_OUTBOUND_ALLOW.split(",").map((e) => e.trim()).filter(Boolean);
  await saveOutboundAllow(sql, allow);
  if (await seedDemo(sql)) log("demo data    two stores with products, two support agents");
  // Functions verify user tokens signed with this secret (the monitor link below carries one for
  // the local admin) and know the server by this secret key (the scheduler uses it; so can curl).
  const jwtSecret = localJwtSecret(settings.FEYXA_JWT_SECRET);
  const secretKey = localSecretKey(settings.FEYXA_SECRET_KEY);
  const functions = {
    ...createFunctions(bus, logError, () => ({ jwtSecret, secretKeys: [secretKey] }), () => process.env, resolveHost),
    ...createDemoFunctions(bus, logError),
  };
  await buildPages();
  const port = settings.FEYXA_GATEWAY_PORT;
  const server = await serveNode(withPages(createGateway(functions), servePages("/storefront/")), port, undefined, { requestDeadlineMs: settings.FEYXA_BODY_DEADLINE_MS });
  const base = `http://localhost:${port}/functions/v1`;
  log(`pages        http://localhost:${port}/storefront/`);
  const buyerToken = await signAccessToken(jwtSecret, await ensureLocalBuyer(sql));
  log(`             http://localhost:${port}/storefront/#access_token=${buyerToken}  (signs you in as the demo buyer: My orders)`);
  const monitorToken = await signAccessToken(jwtSecret, await ensureLocalAdmin(sql));
  log(`monitor      http://localhost:${port}/monitor/#access_token=${monitorToken}  (signs you in as the local admin)`);
  log(`gateway      ${base}/process-event  (server key: apikey: ${secretKey})`);
  log(`             ${base}/retry-failed-events`);

  // pg_cron's jobs on Supabase, on timers here, each at its one period (src/bus/schedules.ts,
  // src/marketplace/settings.ts). One invocation does a bounded share of the work
  // (src/bus/functions/drain.ts); without pg_net nothing re-wakes process-event locally, so
  // the retry job calls again while it answers more.
  let stopping = false;
  const call = (name: string) => functions[name](new Request(`${base}/${name}`, { method: "POST", headers: { apikey: secretKey } }));
  const retryJob = async () => {
    for (let n = 0; n < 100 && !stopping; n++) {
      const res = await call("retry-failed-events");
      if (!res.ok || !(await res.json()).more) return;
    }
  };
  const { retryFailedEvents, evaluateAlerts, foldStats, purgeCompletedEvents, purgeIdempotencyKeys } = BUS_SCHEDULES;
  const { automationsPoll } = MARKETPLACE_SCHEDULES;
  const scheduled = [
    every(retryFailedEvents.everyMs, retryJob, logError),
    every(purgeCompletedEvents.everyMs, () => sql`select feyxa.purge_completed_events(10000)`, logError),
    every(evaluateAlerts.everyMs, () => sql`select feyxa.evaluate_alerts()`, logError),
    every(foldStats.everyMs, () => sql`select feyxa.fold_stats()`, logError),
    every(purgeIdempotencyKeys.everyMs, () => sql`select feyxa.purge_idempotency_keys(10000)`, logError),
    every(automationsPoll.everyMs, () => call("automations-poll"), logError),
  ];
  const period = (ms: number) => (ms < 60_000 ? `${ms / 1000} s` : `${ms / 60_000} min`);
  log(`scheduler    retry-failed-events every ${period(retryFailedEvents.everyMs)}; automation polls every ${period(automationsPoll.everyMs)}; ` +
    `alert rules every ${period(evaluateAlerts.everyMs)}; stats fold every ${period(foldStats.everyMs)}; ` +
    `retention purge every ${period(purgeCompletedEvents.everyMs)}; idempotency keys purge every ${period(purgeIdempotencyKeys.everyMs)}`);
  // Stopped gracefully from before it says it is ready: a signal sent on that line finds the handler.
  stopOnSignals(async () => {
    stopping = true;
    await Promise.all(scheduled.map((job) => job.stop()));
    await new Promise<void>((done) => server.close(() => done()));
    await dispatcher.stop();
    await close();
    await database.stop();
  });
  log("ready. Ctrl-C to stop.");
  logger.info("start", { process: "local", worker: bus.workerId, gateway: base });
}

runMain(main);
