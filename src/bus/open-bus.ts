/**
 * A Bus built from the settings (settings.ts), the one way every composition root builds
 * one: npm start and npm run dispatcher (src/local), and the Deno adapter of the Edge
 * Functions (supabase/functions/_shared/serve.ts). The settings give the pool, the database
 * bounds, the lease and the handler timeout; the runtime gives the rest (where the database
 * is, which handlers, the worker's name).
 */
import { Bus } from "./bus.ts";
import { databaseBoundsOf, openPool } from "./database-options.ts";
import type { DispatcherOptions } from "./dispatcher.ts";
import type { Place } from "./define-settings.ts";
import type { BusSettings } from "./settings.ts";
import type { BusObserver } from "./telemetry/observer.ts";
import type { Handler, Sql } from "./types.ts";

export interface BusRuntime {
  /** Which of the three runs this (the settings were parsed with its defaults). */
  place: Place;
  url: string;
  handlers: Handler[];
  /** Prefix of the worker's id in locked_by. */
  workerName: string;
  /** Connected through a transaction pooler (Supabase's SUPABASE_DB_URL): database-options.ts. */
  pooler?: boolean;
  onError?: (error: unknown) => void;
  observer?: BusObserver;
  /** The machine's host name, which a Node process's heartbeats carry (the bus imports no node:os). */
  host?: string;
}

export interface OpenedBus {
  bus: Bus;
  /** The bus's pool, for what the root runs beside it (routes, migrations' checks, the gateway's functions). */
  sql: Sql;
  /** Ends the pools (after the dispatcher, if any, has stopped). */
  close(): Promise<void>;
}

export function openBus(settings: BusSettings, runtime: BusRuntime): OpenedBus {
  const { url, pooler } = runtime;
  // The pool runs handlers' statements too, so they may take as long as a handler may.
  const bounds = databaseBoundsOf(settings, { handlerTimeoutMs: settings.FEYXA_HANDLER_TIMEOUT_MS });
  const sql = openPool(url, bounds, { max: settings.FEYXA_POOL_SIZE, pooler });
  // A long-running process renews its leases on a connection of its own, never behind its
  // handlers (BusOptions.leaseSql); an invocation of an Edge Function lasts seconds, far under a lease.
  const leases = runtime.place === "edge" ? undefined : openPool(url, bounds, { max: 1, pooler });
  const bus = new Bus({
    sql,
    leaseSql: leases,
    handlers: runtime.handlers,
    workerName: runtime.workerName,
    leaseMs: settings.FEYXA_LEASE_MS,
    handlerTimeoutMs: settings.FEYXA_HANDLER_TIMEOUT_MS,
    onError: runtime.onError,
    observer: runtime.observer,
    where: runtime.place === "edge" ? { runtime: "edge" } : { runtime: "node", host: runtime.host },
  });
  return { bus, sql, close: async () => void await Promise.all([sql.end({ timeout: 5 }), leases?.end({ timeout: 5 })]) };
}

/** The dispatcher's claiming, as the settings say (npm start and npm run dispatcher). */
export function dispatcherSettings(settings: BusSettings): Pick<DispatcherOptions, "batchSize" | "concurrency" | "pollIntervalMs"> {
  return { batchSize: settings.FEYXA_BATCH_SIZE, concurrency: settings.FEYXA_CONCURRENCY, pollIntervalMs: settings.FEYXA_POLL_MS };
}
