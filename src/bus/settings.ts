/**
 * Every setting the bus reads, once: its kind and range, its default, what it means and
 * where it applies (npm start, npm run dispatcher, Edge Functions). The three composition
 * roots parse the environment with busSettings at start and build their Bus from it
 * (open-bus.ts); a setting set where it cannot apply is named in a warning there
 * (ignoredSettings). docs/settings.md is generated from this list and the application's
 * (`npm run gen:settings`). How a setting is declared: define-settings.ts; the schedules:
 * schedules.ts.
 */
import { BODY_DEADLINE_MS } from "./http.ts";
import { DRAIN_CAPS, drainLimitsInput } from "./schemas.ts";
import { LOG_LEVELS } from "./telemetry/logger.ts";
import { parseAllowList } from "./outbound.ts";
import {
  checked, defineSettings, type Env, EVERYWHERE, type Kind, millis, oneOf, onOff, parseSettings, type Place, port, readSetting, type Settings,
  text, url, whole,
} from "./define-settings.ts";

const postgresUrl = url(/^postgres(ql)?:$/, "a postgres:// URL");
const key = (range: string) => ({ kind: text(range), secret: true });
/** The drain limits take the range a request's own limit has (schemas.ts). */
const limit = (field: keyof typeof drainLimitsInput): Kind<number> => {
  const { minValue, maxValue } = drainLimitsInput[field].unwrap();
  return whole(minValue ?? 1, maxValue ?? Number.MAX_SAFE_INTEGER, field === "budget_ms" ? " (ms)" : "");
};
const HOSTED: readonly Place[] = ["edge"];
const GATEWAY: readonly Place[] = ["start", "edge"];
const PROCESSES: readonly Place[] = ["start", "dispatcher"];

export const BUS_SETTINGS = defineSettings({
  // The database.
  DATABASE_URL: {
    kind: postgresUrl, where: PROCESSES, secret: true,
    defaultText: "npm start: its embedded PostgreSQL; the dispatcher: npm start's database (FEYXA_PG_PORT)",
    meaning: "An existing PostgreSQL to use instead of the embedded one (the tests take it as a superuser URL).",
  },
  SUPABASE_DB_URL: { kind: postgresUrl, where: HOSTED, platform: true, secret: true, meaning: "The project's database, through its transaction pooler (no prepared statements, no LISTEN)." },
  FEYXA_PG_PORT: { kind: port, default: 54322, where: PROCESSES, meaning: "The embedded PostgreSQL's port (the dispatcher connects there without DATABASE_URL)." },
  FEYXA_DATA_DIR: { kind: text("a folder"), default: ".data/postgres-17", where: ["start"], meaning: "Where the embedded PostgreSQL keeps its data." },
  FEYXA_POOL_SIZE: {
    kind: whole(1, 100), default: 6, byPlace: { start: 20, edge: 4 }, where: EVERYWHERE,
    meaning: "Connections in the process's pool (npm start's gateway and dispatcher share one; lease renewals have one more of their own outside Edge Functions).",
  },
  FEYXA_DB_CONNECT_TIMEOUT_MS: { kind: millis(100, 600_000), default: 5_000, where: EVERYWHERE, meaning: "A connection attempt gives up after this (docs/reliability.md, \"A database outage\")." },
  FEYXA_DB_STATEMENT_TIMEOUT_MS: {
    kind: millis(100, 3_600_000), default: 10_000, where: EVERYWHERE,
    meaning: "The server cancels a longer statement; a pool that runs handlers takes at least the handler timeout (through Supabase's pooler, the role's own timeout applies server-side).",
  },
  FEYXA_DB_LOCK_TIMEOUT_MS: { kind: millis(100, 3_600_000), default: 5_000, where: EVERYWHERE, meaning: "The server gives up waiting for a lock after this." },
  FEYXA_DB_QUEUE_TIMEOUT_MS: { kind: millis(100, 3_600_000), default: 5_000, where: EVERYWHERE, meaning: "A query waiting for a free connection of the pool gives up (503) after this." },

  // Claiming and running handlers.
  FEYXA_LEASE_MS: {
    kind: millis(1_000, 3_600_000), default: 30_000, where: EVERYWHERE,
    meaning: "How long a claim holds an event unless renewed (every third of it): a vanished worker's events come back after it.",
  },
  FEYXA_HANDLER_TIMEOUT_MS: { kind: millis(100, 3_600_000), default: 10_000, where: EVERYWHERE, meaning: "A handler's longest run, unless it sets its own." },
  FEYXA_HANDLERS: { kind: text("a module path"), where: ["dispatcher"], defaultText: "the application's handlers", meaning: "A module exporting `handlers: Handler[]` to run instead of the application's (its routes are the operator's rows)." },
  FEYXA_BATCH_SIZE: { kind: whole(1, 1_000), default: 50, where: PROCESSES, meaning: "Events the dispatcher claims in one statement." },
  FEYXA_CONCURRENCY: { kind: whole(1, 64), default: 2, where: PROCESSES, meaning: "Claims in flight at once: up to batch size × concurrency events run at a time." },
  FEYXA_POLL_MS: { kind: millis(10, 3_600_000), default: 2_000, where: PROCESSES, meaning: "The dispatcher's poll when no NOTIFY comes (a lost one delays an event by at most this)." },

  // One invocation of process-event (a drain wake-up) or retry-failed-events: src/bus/functions/drain.ts.
  FEYXA_DRAIN_MAX_EVENTS: { kind: limit("max_events"), default: DRAIN_CAPS.maxEvents, where: GATEWAY, meaning: "Events one invocation claims at most." },
  FEYXA_DRAIN_MAX_HANDLER_RUNS: { kind: limit("max_handler_runs"), default: DRAIN_CAPS.maxHandlerRuns, where: GATEWAY, meaning: "Handler runs one invocation starts at most." },
  FEYXA_DRAIN_BATCH_SIZE: { kind: limit("batch_size"), default: 50, where: GATEWAY, meaning: "Events per claim within an invocation." },
  FEYXA_DRAIN_BUDGET_MS: { kind: limit("budget_ms"), default: 1_000, where: GATEWAY, meaning: "process-event's drain starts no batch after this long (the Edge Runtime's 2 s of CPU)." },
  FEYXA_RETRY_BUDGET_MS: { kind: limit("budget_ms"), default: 1_000, where: GATEWAY, meaning: "retry-failed-events starts no batch after this long." },
  FEYXA_DRAIN_REWAKE: { kind: onOff, default: true, where: GATEWAY, meaning: "An invocation stopped with events still due asks the database for the next one (pg_net)." },

  // Callers and HTTP.
  FEYXA_GATEWAY_PORT: { kind: port, default: 54321, where: ["start"], meaning: "The local functions gateway's port (/functions/v1/<name>, the pages)." },
  FEYXA_BODY_DEADLINE_MS: { kind: millis(100, 600_000), default: BODY_DEADLINE_MS, where: PROCESSES, meaning: "The Node server closes a connection whose request has not arrived whole by then (408)." },
  FEYXA_SECRET_KEY: {
    ...key("an sb_secret_… key (a comma list during a rotation)"), where: EVERYWHERE, defaultText: "npm start: a fresh key per start, printed",
    meaning: "A key the functions take as the server's, besides the project's; npm start's own; the one the dispatcher's /metrics answers to.",
  },
  FEYXA_JWT_SECRET: { ...key("the project's legacy JWT secret"), where: GATEWAY, defaultText: "npm start: a fresh secret per start", meaning: "Verifies HS256 user tokens and the legacy service_role key (npm start signs its links with it)." },
  SUPABASE_SECRET_KEYS: { ...key("a JSON dictionary of sb_secret_… keys"), where: HOSTED, platform: true, meaning: "The project's secret keys: a caller presenting one is the server." },
  SUPABASE_SECRET_KEY: { ...key("an sb_secret_… key"), where: HOSTED, platform: true, meaning: "One secret key, where a runtime gives it alone." },
  SUPABASE_PUBLISHABLE_KEYS: { ...key("a JSON dictionary of sb_publishable_… keys"), where: HOSTED, platform: true, meaning: "The project's publishable keys (anon); another sb_publishable_ key is refused." },
  SUPABASE_PUBLISHABLE_KEY: { ...key("an sb_publishable_… key"), where: HOSTED, platform: true, meaning: "One publishable key, where a runtime gives it alone." },
  SUPABASE_JWT_SECRET: { ...key("a JWT secret"), where: HOSTED, platform: true, meaning: "The legacy JWT secret, where a runtime gives it (FEYXA_JWT_SECRET first)." },
  SUPABASE_JWKS: { kind: text("a JWKS document"), where: HOSTED, platform: true, meaning: "The project's signing keys (ES256/RS256 user tokens)." },
  SUPABASE_JWKS_URL: { kind: url(/^https?:$/, "an http(s) URL"), where: HOSTED, platform: true, meaning: "Where the signing keys are fetched without SUPABASE_JWKS." },
  SUPABASE_URL: { kind: url(/^https?:$/, "an http(s) URL"), where: HOSTED, platform: true, meaning: "The project; its /auth/v1/.well-known/jwks.json serves the signing keys." },
  PORT: { kind: port, where: HOSTED, defaultText: "the runtime's", meaning: "The Deno adapter listens there when set (the Deno tests); Supabase's runtime serves without it." },
  STRIPE_WEBHOOK_SECRET: { ...key("whsec_… secrets, space-separated during a rotation"), where: GATEWAY, meaning: "Verifies webhooks at /webhooks/stripe (Stripe's signatures)." },
  "WEBHOOK_SECRET_<SOURCE>": { ...key("whsec_… secrets, space-separated during a rotation"), where: GATEWAY, meaning: "Verifies webhooks at /webhooks/<source> (Standard Webhooks), e.g. WEBHOOK_SECRET_ACME." },

  // Outbound requests, logs, metrics.
  FEYXA_OUTBOUND_ALLOW: {
    kind: checked("comma-separated hosts, host:ports or CIDR ranges", parseAllowList), default: "", where: EVERYWHERE,
    meaning: "Exceptions to the outbound guard (only public https otherwise); npm start also lets URLs naming them be saved (docs/security.md).",
  },
  FEYXA_LOG_LEVEL: { kind: oneOf(LOG_LEVELS), default: "info", where: EVERYWHERE, meaning: "The JSON log lines written (docs/observability.md)." },
  FEYXA_METRICS_CACHE_MS: { kind: millis(0, 3_600_000), default: 5_000, where: GATEWAY, meaning: "The metrics function answers from a read this recent." },
  FEYXA_METRICS_SETTLE_MS: { kind: millis(0, 3_600_000), default: 15_000, where: GATEWAY, meaning: "Counters include rows created up to this long ago (their transactions surely committed)." },
  FEYXA_METRICS_PORT: { kind: port, where: ["dispatcher"], defaultText: "none", meaning: "Serves the dispatcher's own metrics at /metrics there (needs FEYXA_SECRET_KEY)." },
  FEYXA_METRICS_HOST: { kind: text("a host name or address"), default: "127.0.0.1", where: ["dispatcher"], meaning: "The address the dispatcher's metrics listen on." },
});

export type BusSettingName = keyof Settings<typeof BUS_SETTINGS> & string;
export type BusSettings = Settings<typeof BUS_SETTINGS>;

/** The bus's settings from an environment, with the defaults of `place`; throws SettingsError naming each bad value. */
export const busSettings = (env: Env, place?: Place): BusSettings => parseSettings(BUS_SETTINGS, env, place);

/** One of the bus's settings, read per request (what a function does). */
export const busSetting = <K extends BusSettingName>(env: Env, name: K): BusSettings[K] => readSetting(BUS_SETTINGS, env, name);
