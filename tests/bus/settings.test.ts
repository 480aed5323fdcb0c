/**
 * The settings (src/bus/settings.ts, declared through src/bus/define-settings.ts): an
 * environment parsed once, defaults where unset, a bad value refused with a message naming
 * the variable and its range; a variable set where it cannot apply named rather than
 * ignored; the Bus every composition root builds from them (open-bus.ts); and the schedules'
 * periods written as pg_cron writes them. No database: the pools are opened and closed
 * without a query.
 */
import { describe, expect, it } from "vitest";
import {
  BUS_SETTINGS, busSetting, busSettings, cronSchedule, dispatcherSettings, ignoredSettings, openBus, type Place, type Setting, SettingsError,
} from "../../src/bus/index.ts";
import { MARKETPLACE_SETTINGS } from "../../src/marketplace/settings.ts";

const URL_ = "postgres://postgres:postgres@127.0.0.1:1/postgres";

function refusal(parse: () => unknown): SettingsError {
  try {
    parse();
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error("not refused");
}

describe("parsing an environment", () => {
  it("takes each default where a variable is unset or empty, and the place's own where it has one", () => {
    const settings = busSettings({ FEYXA_LEASE_MS: "", FEYXA_POLL_MS: "  " });
    expect(settings).toMatchObject({ FEYXA_LEASE_MS: 30_000, FEYXA_POLL_MS: 2_000, FEYXA_LOG_LEVEL: "info", FEYXA_DRAIN_REWAKE: true, FEYXA_OUTBOUND_ALLOW: "" });
    expect(settings.DATABASE_URL).toBeUndefined();
    expect([busSettings({}, "start"), busSettings({}, "dispatcher"), busSettings({}, "edge")].map((s) => s.FEYXA_POOL_SIZE)).toEqual([20, 6, 4]);
    expect(busSettings({ FEYXA_POOL_SIZE: "9" }, "edge").FEYXA_POOL_SIZE).toBe(9);
  });

  it("reads each kind: whole numbers, one of a list, on or off, an allow-list, URLs", () => {
    expect(busSettings({
      FEYXA_LEASE_MS: " 45000 ", FEYXA_LOG_LEVEL: "WARN", FEYXA_DRAIN_REWAKE: "off",
      FEYXA_OUTBOUND_ALLOW: "127.0.0.1:4000, 10.0.0.0/8", DATABASE_URL: "postgresql://u@h/db",
    })).toMatchObject({ FEYXA_LEASE_MS: 45_000, FEYXA_LOG_LEVEL: "warn", FEYXA_DRAIN_REWAKE: false, FEYXA_OUTBOUND_ALLOW: "127.0.0.1:4000, 10.0.0.0/8" });
  });

  it("refuses a bad value with a message naming the variable and its range, every bad one at once", () => {
    const { problems } = refusal(() =>
      busSettings({ FEYXA_LEASE_MS: "999", FEYXA_BATCH_SIZE: "lots", FEYXA_LOG_LEVEL: "verbose", FEYXA_OUTBOUND_ALLOW: "10.0.0.0/99" }));
    expect(problems).toEqual([
      'FEYXA_LEASE_MS must be a whole number from 1,000 to 3,600,000 (ms) (got "999")',
      'FEYXA_BATCH_SIZE must be a whole number from 1 to 1,000 (got "lots")',
      'FEYXA_OUTBOUND_ALLOW must be comma-separated hosts, host:ports or CIDR ranges (got "10.0.0.0/99": FEYXA_OUTBOUND_ALLOW: "10.0.0.0/99" is not a CIDR range)',
      'FEYXA_LOG_LEVEL must be one of debug, info, warn, error (got "verbose")',
    ]);
  });

  it("never repeats a secret's value, and is a 500 misconfigured where a function meets it", () => {
    const error = refusal(() => busSettings({ DATABASE_URL: "mysql://root:hunter2@db" }));
    expect(error.message).toBe("DATABASE_URL must be a postgres:// URL (a value that is not)");
    expect([error.status, error.body().error]).toEqual([500, "misconfigured"]);
  });

  it("reads one setting per request, as a function does, refusing it alone", () => {
    expect(busSetting({ FEYXA_DRAIN_MAX_EVENTS: "5", FEYXA_LEASE_MS: "bad" }, "FEYXA_DRAIN_MAX_EVENTS")).toBe(5);
    expect(busSetting({}, "FEYXA_METRICS_CACHE_MS")).toBe(5_000);
    expect(() => busSetting({ FEYXA_DRAIN_MAX_EVENTS: "10001" }, "FEYXA_DRAIN_MAX_EVENTS")).toThrow(/FEYXA_DRAIN_MAX_EVENTS must be a whole number from 1 to 10,000/);
  });

  it("declares every default within its own range", () => {
    for (const [name, setting] of Object.entries({ ...BUS_SETTINGS, ...MARKETPLACE_SETTINGS }) as [string, Setting][]) {
      for (const value of [setting.default, ...Object.values(setting.byPlace ?? {})]) {
        if (value === undefined || value === "") continue;
        const text = typeof value === "boolean" ? (value ? "on" : "off") : String(value);
        expect(setting.kind.schema.safeParse(text), name).toMatchObject({ success: true, data: value });
      }
      expect(setting.meaning, name).toMatch(/\S/);
      expect(setting.where.length, name).toBeGreaterThan(0);
    }
  });
});

describe("a variable set where it cannot apply", () => {
  const lists = [BUS_SETTINGS, MARKETPLACE_SETTINGS];
  const ignored = (env: Record<string, string>, place: Place) => ignoredSettings(lists, env, place);

  it("is named, with where it applies, instead of being ignored", () => {
    expect(ignored({ FEYXA_POLL_MS: "100", FEYXA_LEASE_MS: "5000", SUPABASE_DB_URL: "postgres://x" }, "edge")).toEqual([
      { setting: "FEYXA_POLL_MS", reason: "applies to npm start, npm run dispatcher, not to Edge Functions" },
    ]);
    expect(ignored({ FEYXA_GATEWAY_PORT: "1", WEBHOOK_SECRET_ACME: "whsec_x", RESEND_API_KEY: "re_x" }, "dispatcher").map((i) => i.setting))
      .toEqual(["FEYXA_GATEWAY_PORT", "WEBHOOK_SECRET_ACME"]);
    expect(ignored({ SUPABASE_URL: "https://p.supabase.co", FEYXA_HANDLERS: "m.ts" }, "start").map((i) => i.setting)).toEqual(["FEYXA_HANDLERS", "SUPABASE_URL"]);
  });

  it("names a FEYXA_ variable no list declares (a typo, a setting that is gone), and leaves others' variables alone", () => {
    expect(ignored({ FEYXA_LEASE_TIME: "1", FEYXA_RETRY_INTERVAL_MS: "5000", PATH: "/bin", HOME: "/root", FEYXA_PG_PORT: "" }, "start")).toEqual([
      { setting: "FEYXA_LEASE_TIME", reason: "not a setting (docs/settings.md lists them)" },
      { setting: "FEYXA_RETRY_INTERVAL_MS", reason: "not a setting (docs/settings.md lists them)" },
    ]);
  });
});

describe("openBus: the Bus every composition root builds from the settings", () => {
  it("applies the lease, the handler timeout and the pool size wherever it runs, Edge Functions included", async () => {
    for (const place of ["start", "dispatcher", "edge"] as const) {
      const settings = busSettings({ FEYXA_LEASE_MS: "45000", FEYXA_HANDLER_TIMEOUT_MS: "20000" }, place);
      const { bus, sql, close } = openBus(settings, { place, url: URL_, handlers: [], workerName: place, pooler: place === "edge" });
      expect([bus.leaseMs, bus.handlerTimeoutMs, bus.workerId.split(":")[0]], place).toEqual([45_000, 20_000, place]);
      expect(sql.options.max, place).toBe({ start: 20, dispatcher: 6, edge: 4 }[place]);
      expect(sql.options.prepare, place).toBe(place !== "edge");
      await close();
    }
  });

  it("gives the dispatcher its batch, concurrency and poll from the settings (npm start's too)", () => {
    expect(dispatcherSettings(busSettings({ FEYXA_BATCH_SIZE: "10", FEYXA_CONCURRENCY: "3", FEYXA_POLL_MS: "500" }, "start")))
      .toEqual({ batchSize: 10, concurrency: 3, pollIntervalMs: 500 });
  });
});

describe("cronSchedule: a period as pg_cron writes it", () => {
  it("writes seconds under a minute as an interval, minutes and hours as cron lines", () => {
    expect([30_000, 1_000, 60_000, 600_000, 3_600_000, 6 * 3_600_000, 86_400_000].map(cronSchedule))
      .toEqual(["30 seconds", "1 seconds", "* * * * *", "*/10 * * * *", "0 * * * *", "0 */6 * * *", "0 0 * * *"]);
  });

  it("refuses a period pg_cron cannot keep, naming it", () => {
    for (const ms of [1_500, 90_000, 7 * 60_000, 5 * 3_600_000, 0]) expect(() => cronSchedule(ms)).toThrow(String(ms));
  });
});
