/** Local settings, from the environment, with defaults that match Supabase's local ports. */
import { resolve } from "node:path";

export interface LocalConfig {
  /** An existing database; unset: the embedded PostgreSQL. */
  databaseUrl?: string;
  pgPort: number;
  dataDir: string;
  gatewayPort: number;
  retryIntervalMs: number;
  leaseMs: number;
  handlerTimeoutMs: number;
}

/** A positive whole number from the environment, or the fallback when unset. */
export function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number (got ${value})`);
  return n;
}

export function readConfig(env: Record<string, string | undefined> = process.env): LocalConfig {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    pgPort: positiveInt(env.FEYXA_PG_PORT, 54322, "FEYXA_PG_PORT"),
    dataDir: resolve(env.FEYXA_DATA_DIR ?? ".data/postgres-17"),
    gatewayPort: positiveInt(env.FEYXA_GATEWAY_PORT, 54321, "FEYXA_GATEWAY_PORT"),
    retryIntervalMs: positiveInt(env.FEYXA_RETRY_INTERVAL_MS, 30_000, "FEYXA_RETRY_INTERVAL_MS"),
    leaseMs: positiveInt(env.FEYXA_LEASE_MS, 30_000, "FEYXA_LEASE_MS"),
    handlerTimeoutMs: positiveInt(env.FEYXA_HANDLER_TIMEOUT_MS, 10_000, "FEYXA_HANDLER_TIMEOUT_MS"),
  };
}
