/**
 * `npm start`: the whole bus on one machine, no Docker. Starts (or connects to) the
 * database, applies the migrations, then serves the functions gateway, runs the
 * dispatcher and the retry scheduler. Ctrl-C stops claiming, lets in-flight handlers
 * finish, gives back what is still held, and closes everything in order.
 */
import postgres from "postgres";
import { Bus, databaseBounds, Dispatcher, loggingObserver, openPool, saveOutboundAllow, syncRoutes } from "../bus/index.ts";
import { createGateway } from "../bus/functions/index.ts";
import { engineHandlersFromEnv, ROUTE_SOURCE } from "../marketplace/engines/index.ts";
import { createDemoFunctions } from "../marketplace/functions/demo.ts";
import { createFunctions } from "../marketplace/functions/index.ts";
import { readConfig } from "./config.ts";
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
  const config = readConfig();
  const logger = processLogger();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, port: config.pgPort });
  log(database.kind === "embedded"
    ? `postgres     embedded on port ${config.pgPort}, data in ${config.dataDir}`
    : "postgres     DATABASE_URL");

  // Migrations may run longer than any request may: their own connection, without the pool's bounds.
  const migrator = postgres(database.url, { max: 1, onnotice: () => {} });
  const applied = await migrate(migrator).finally(() => migrator.end());
  log(`migrations   ${applied.length ? `applied ${applied.length}, up to ${applied.at(-1)}` : "up to date"}`);
  // The gateway and the dispatcher share the pool, so its statements may run as long as a handler.
  const bounds = databaseBounds(process.env, { handlerTimeoutMs: config.handlerTimeoutMs });
  const sql = openPool(database.url, bounds, { max: 20 });
  const leases = openPool(database.url, bounds, { max: 1 }); // renewals never wait behind handlers

  const handlers = engineHandlersFromEnv(process.env, resolveHost);
  const routes = await syncRoutes(sql, ROUTE_SOURCE, handlers);
  log(`routes       from the handlers' code: ${routes.added} added, ${routes.revived} revived, ${routes.retired} retired`);
  const bus = new Bus({
    sql,
    leaseSql: leases,
    handlers,
    workerName: "local",
    leaseMs: config.leaseMs,
    handlerTimeoutMs: config.handlerTimeoutMs,
    onError: logError,
    observer: loggingObserver(logger),
  });
  const dispatcher = new Dispatcher(bus, { onError: logError });
  await dispatcher.start();
  log("dispatcher   listening on NOTIFY feyxa_events, polling every 2 s");

  // Loopback is not allowed by default, here too. Locally, one variable allows a host both
  // ways: saving URLs that name it (the database's list) and calling them (the process's).
  const allow = (process.env.FEYXA_OUTBOUND_ALLOW ?? "").split(",").map((e) => e.trim()).filter(Boolean);
  await saveOutboundAllow(sql, allow);
  if (await seedDemo(sql)) log("demo data    two stores with products, two support agents");
  // Functions verify user tokens signed with this secret (the monitor link below carries one for
  // the local admin) and know the server by this secret key (the scheduler uses it; so can curl).
  const jwtSecret = localJwtSecret();
  const secretKey = localSecretKey();
  const functions = {
    ...createFunctions(bus, logError, () => ({ jwtSecret, secretKeys: [secretKey] }), () => process.env, resolveHost),
    ...createDemoFunctions(bus, logError),
  };
  await buildPages();
  const server = await serveNode(withPages(createGateway(functions), servePages("/storefront/")), config.gatewayPort);
  const base = `http://localhost:${config.gatewayPort}/functions/v1`;
  log(`pages        http://localhost:${config.gatewayPort}/storefront/`);
  const buyerToken = await signAccessToken(jwtSecret, await ensureLocalBuyer(sql));
  log(`             http://localhost:${config.gatewayPort}/storefront/#access_token=${buyerToken}  (signs you in as the demo buyer: My orders)`);
  const monitorToken = await signAccessToken(jwtSecret, await ensureLocalAdmin(sql));
  log(`monitor      http://localhost:${config.gatewayPort}/monitor/#access_token=${monitorToken}  (signs you in as the local admin)`);
  log(`gateway      ${base}/process-event  (server key: apikey: ${secretKey})`);
  log(`             ${base}/retry-failed-events`);

  // One invocation does a bounded share of the work (src/bus/functions/drain.ts); without pg_net
  // nothing re-wakes process-event locally, so the job calls again while it answers more.
  let stopping = false;
  const retryJob = async () => {
    for (let call = 0; call < 100 && !stopping; call++) {
      const res = await functions["retry-failed-events"](new Request(`${base}/retry-failed-events`, { method: "POST", headers: { apikey: secretKey } }));
      if (!res.ok || !(await res.json()).more) return;
    }
  };
  const scheduler = every(config.retryIntervalMs, retryJob, logError);
  const purge = every(10 * 60_000, () => sql`select feyxa.purge_completed_events(10000)`, logError);
  const alerts = every(60_000, () => sql`select feyxa.evaluate_alerts()`, logError); // pg_cron's job on Supabase
  const poll = every(15_000, () =>
    functions["automations-poll"](new Request(`${base}/automations-poll`, { method: "POST", headers: { apikey: secretKey } })), logError);
  log(`scheduler    retry-failed-events every ${config.retryIntervalMs / 1000} s; automation polls every 15 s; alert rules every minute; retention purge every 10 min`);
  log("ready. Ctrl-C to stop.");
  logger.info("start", { process: "local", worker: bus.workerId, gateway: base });

  stopOnSignals(async () => {
    stopping = true;
    await Promise.all([scheduler.stop(), purge.stop(), poll.stop(), alerts.stop()]);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dispatcher.stop();
    await Promise.all([sql.end({ timeout: 5 }), leases.end({ timeout: 5 })]);
    await database.stop();
  });
}

runMain(main);
