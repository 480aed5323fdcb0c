import { describe, expect, it } from "vitest";
import { Bus } from "../../../src/bus/bus.ts";
import { defineHandler } from "../../../src/bus/define-handler.ts";
import { Dispatcher } from "../../../src/bus/dispatcher.ts";
import { jsonLogger, logLevelFrom } from "../../../src/bus/telemetry/logger.ts";
import { loggingObserver } from "../../../src/bus/telemetry/observer.ts";
import type { ClaimedEvent } from "../../../src/bus/types.ts";
import { subscribe, testBus, uuid } from "../../support/bus.ts";
import { useDatabase } from "../../support/database.ts";
import { drain } from "../../support/marketplace.ts";

const { sql } = await useDatabase();

function capture(level: "debug" | "info" | "warn" | "error" = "debug") {
  const lines: string[] = [];
  const logger = jsonLogger({ level, write: (line) => lines.push(line), base: { pid: 42 } });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

/** Emits from SQL in a transaction that carries a traceparent, as a traced emitter's does. */
async function emitTraced(type: string): Promise<string> {
  return await sql.begin(async (tx) => {
    await tx`select set_config('feyxa.traceparent', ${`00-${TRACE_ID}-b7ad6b7169203331-01`}, true)`;
    const [row] = await tx<{ id: string }[]>`select feyxa.emit_event(${type}, 'test', ${uuid()}::uuid, null, '{}'::jsonb, null) as id`;
    return row.id;
  });
}

describe("JSON log lines", () => {
  it("writes one JSON object per line, at or above the level, with every string redacted", () => {
    const { logger, lines, parsed } = capture("info");
    logger.debug("not written");
    logger.info("start", { worker: "w1", note: "apikey: sb_secret_abcdefghijklmnop" });
    logger.error("boom", { error: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl" });
    expect(lines).toHaveLength(2);
    const [start, boom] = parsed();
    expect(start).toMatchObject({ level: "info", msg: "start", worker: "w1", pid: 42 });
    expect(Date.parse(start.time as string)).not.toBeNaN();
    expect(JSON.stringify(parsed())).not.toMatch(/sb_secret_abcdefghijklmnop|eyJhbGciOiJIUzI1NiJ9\.eyJ/);
    expect(boom.level).toBe("error");
  });

  it("FEYXA_LOG_LEVEL: the four levels, default info, anything else an error naming the variable", () => {
    expect(logLevelFrom(undefined)).toBe("info");
    expect(logLevelFrom(" WARN ")).toBe("warn");
    expect(() => logLevelFrom("verbose")).toThrow(/FEYXA_LOG_LEVEL/);
  });

  it("a handler failure is a line with the event id, the handler and the trace id stored with the event", async () => {
    const { logger, parsed } = capture();
    await subscribe(sql, "logged.failing", "logs.failing");
    const bus = testBus(sql, [defineHandler("logs.failing", async () => {
      throw new Error("upstream said no (token=abcdef123456)");
    })], { observer: loggingObserver(logger) });
    const id = await emitTraced("logged.failing");
    await drain(bus);
    const [line] = parsed().filter((l) => l.msg === "handler failed");
    expect(line).toMatchObject({ level: "warn", event_id: id, event_type: "logged.failing", handler: "logs.failing", attempt: 1, retriable: true, trace_id: TRACE_ID });
    expect(line.error).toMatch(/upstream said no \(token=\[redacted\]/);
  });

  it("a lease lost before the attempt was recorded is a line with the event and its trace id", async () => {
    const { logger, parsed } = capture();
    await subscribe(sql, "logged.stolen", "logs.stolen");
    const bus = testBus(sql, [defineHandler("logs.stolen", async (event) => {
      await sql`update feyxa.events_log set locked_by = 'another-worker' where id = ${event.id}::uuid`;
      await sql`update feyxa.event_queue set locked_by = 'another-worker' where event_id = ${event.id}::uuid`;
    })], { observer: loggingObserver(logger) });
    const id = await emitTraced("logged.stolen");
    await drain(bus);
    expect(parsed().find((l) => l.msg === "lease lost")).toMatchObject({ event_id: id, trace_id: TRACE_ID, attempt: 1 });
  });

  it("a claim that fails is an error line; the first that succeeds after it says claims resumed", async () => {
    const { logger, parsed } = capture();
    let failures = 2;
    class FlakyBus extends Bus {
      override claimDue(limit: number): Promise<ClaimedEvent[]> {
        if (failures-- > 0) return Promise.reject(new Error("connection refused (password=hunter2hunter2)"));
        return super.claimDue(limit);
      }
    }
    const bus = new FlakyBus({ sql, handlers: [], onError: () => {}, observer: loggingObserver(logger) });
    const dispatcher = new Dispatcher(bus, { pollIntervalMs: 20, listen: false });
    await dispatcher.start();
    for (let i = 0; i < 100 && !parsed().some((l) => l.msg === "claims resumed"); i++) await new Promise((r) => setTimeout(r, 20));
    await dispatcher.stop();
    const lines = parsed();
    expect(lines.filter((l) => l.msg === "claim failed")).toHaveLength(2);
    expect(lines.find((l) => l.msg === "claim failed")).toMatchObject({ level: "error", error: "connection refused (password=[redacted]" });
    expect(lines.find((l) => l.msg === "claims resumed")).toMatchObject({ level: "info", failed_claims: 2 });
  });

  it("a LISTEN connection lost and made again is a warning line; the dispatcher claims at once and goes on", async () => {
    const { logger, parsed } = capture();
    const handled: string[] = [];
    await subscribe(sql, "logged.relisten", "logs.relisten");
    const bus = testBus(sql, [defineHandler("logs.relisten", async (event) => void handled.push(event.id))], { observer: loggingObserver(logger) });
    const dispatcher = new Dispatcher(bus, { pollIntervalMs: 60_000 }); // only NOTIFY and the reconnection wake it
    await dispatcher.start();
    try {
      const [{ n }] = await sql<{ n: number }[]>`
        select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and query ilike 'listen %'`;
      expect(n).toBe(1);
      const until = async (done: () => boolean) => {
        for (let i = 0; i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
      };
      await until(() => parsed().some((l) => l.msg === "listener reconnected"));
      expect(parsed().find((l) => l.msg === "listener reconnected")).toMatchObject({ level: "warn", channel: "feyxa_events" });
      const id = (await bus.emit({ event_type: "logged.relisten", aggregate_type: "test", aggregate_id: uuid() })).eventId;
      await until(() => handled.includes(id));
      expect(handled).toContain(id); // woken by a NOTIFY on the new connection, not by the minute's poll
    } finally {
      await dispatcher.stop();
    }
  });
});
