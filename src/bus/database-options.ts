/**
 * How every pool of the bus connects, and how long anything may wait on the database:
 * the one place for the postgres() options of npm start, npm run dispatcher and the Edge
 * Functions (runtime-agnostic: no Node or Deno module). docs/reliability.md, "A database
 * outage", says why each bound is what it is; the FEYXA_DB_* settings that set them, with
 * their defaults and ranges, are in settings.ts.
 */
import postgres, { type Options, type PostgresType } from "postgres";
import { boundWaits, type WaitBounds } from "./bounded-sql.ts";
import { type Env, parseSettings } from "./define-settings.ts";
import { BUS_SETTINGS, type BusSettings } from "./settings.ts";
import type { Sql } from "./types.ts";

export interface DatabaseBounds extends WaitBounds {
  /** A connection attempt (TCP + startup + authentication) gives up after this. */
  connectMs: number;
  /** The server cancels a statement running longer (statement_timeout; 57014). */
  statementMs: number;
  /** The server gives up waiting for a lock after this (lock_timeout; 55P03). */
  lockMs: number;
}

/** How long the client waits past the statement timeout before it calls a silent connection dead. */
const ANSWER_GRACE_MS = 2_000;

const { FEYXA_DB_CONNECT_TIMEOUT_MS, FEYXA_DB_STATEMENT_TIMEOUT_MS, FEYXA_DB_LOCK_TIMEOUT_MS, FEYXA_DB_QUEUE_TIMEOUT_MS } = BUS_SETTINGS;
const DB_SETTINGS = { FEYXA_DB_CONNECT_TIMEOUT_MS, FEYXA_DB_STATEMENT_TIMEOUT_MS, FEYXA_DB_LOCK_TIMEOUT_MS, FEYXA_DB_QUEUE_TIMEOUT_MS };
type DbSettings = Pick<BusSettings, keyof typeof DB_SETTINGS>;

/**
 * The bounds the settings give. `handlerTimeoutMs`: the pool also runs handlers (the
 * dispatcher, npm start, process-event), whose statements may take as long as a handler may.
 */
export function databaseBoundsOf(settings: DbSettings, { handlerTimeoutMs = 0 } = {}): DatabaseBounds {
  const statementMs = Math.max(settings.FEYXA_DB_STATEMENT_TIMEOUT_MS, handlerTimeoutMs);
  return {
    connectMs: settings.FEYXA_DB_CONNECT_TIMEOUT_MS,
    statementMs,
    lockMs: settings.FEYXA_DB_LOCK_TIMEOUT_MS,
    queueMs: settings.FEYXA_DB_QUEUE_TIMEOUT_MS,
    answerMs: statementMs + ANSWER_GRACE_MS,
  };
}

/** The bounds from an environment's FEYXA_DB_* (a value out of range is refused, naming it). */
export function databaseBounds(env: Env, options: { handlerTimeoutMs?: number } = {}): DatabaseBounds {
  return databaseBoundsOf(parseSettings(DB_SETTINGS, env), options);
}

export interface PoolShape {
  /** Connections in the pool. */
  max: number;
  /**
   * Connected through a transaction pooler (Supabase's Supavisor, SUPABASE_DB_URL): no
   * prepared statements, and no session settings in the startup packet (a pooler may refuse
   * or drop them; the client-side bounds of bounded-sql.ts hold either way).
   */
  pooler?: boolean;
}

/** A pool with these bounds: the server's (poolOptions) and the client's (boundWaits). */
export function openPool(url: string, bounds: DatabaseBounds, shape: PoolShape): Sql {
  return boundWaits(postgres(url, poolOptions(bounds, shape)), bounds);
}

/** The postgres() options of a pool with these bounds (openPool also bounds the client's waits). */
export function poolOptions(bounds: DatabaseBounds, { max, pooler = false }: PoolShape): Options<Record<string, PostgresType>> {
  return {
    max,
    prepare: !pooler,
    onnotice: () => {},
    connect_timeout: bounds.connectMs / 1000,
    // postgres.js waits 3^n/100 s (up to 20 s) before the next attempt, n counting every
    // failed attempt of the whole pool: a few seconds into an outage each connection retries
    // once every 10-20 s, and each retry answers a single queued query. Retrying within half
    // a second keeps the queue moving (a refused connection costs nothing) and reconnects
    // within half a second of the database's return.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 0.5),
    // Close idle connections before a NAT or the pooler drops them silently, and probe the
    // idle ones that stay (TCP keepalive), so a dead peer is found between requests.
    idle_timeout: 60,
    keep_alive: 15,
    connection: pooler ? {} : {
      statement_timeout: bounds.statementMs,
      lock_timeout: bounds.lockMs,
      // A client that vanished mid-transaction (a partition, a killed process) must not
      // hold its row locks until the server's TCP notices, hours later.
      idle_in_transaction_session_timeout: bounds.answerMs,
    },
  };
}
