/**
 * Where pg_net and pg_cron are missing, the same migrations apply and the bus runs by
 * polling. Runs in both tiers: on the embedded PostgreSQL 17 neither extension exists; in the
 * PostgreSQL 15 tier both are installed but not preloaded or enabled, and postgres may not
 * create them (no supautils), so migration 000006 only notes it. The pg_net path itself:
 * tests/bus/wake.test.ts (its requests) and tests/e2e/wake-up.test.ts (the real one).
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { useDatabase } from "../support/database.ts";
import { eventRow, subscribe, testBus, uuid } from "../support/bus.ts";

const { sql } = await useDatabase();

describe("without pg_net and pg_cron", () => {
  it("the migrations applied without them: no net or cron schema, nothing scheduled", async () => {
    const [row] = await sql`select to_regnamespace('net') is null as no_net, to_regnamespace('cron') is null as no_cron,
                                   exists (select from pg_extension where extname in ('pg_net', 'pg_cron')) as any_extension`;
    expect(row).toEqual({ no_net: true, no_cron: true, any_extension: false });
    const [{ n }] = await sql`select count(*)::int as n from supabase_migrations.schema_migrations where version like '20261123000006%'`;
    expect(n).toBe(1);
  });

  it("with a functions URL set, emits still succeed, no HTTP call is attempted, and a polling dispatcher completes the event", async () => {
    await sql`update feyxa.event_bus_settings set functions_url = 'https://example.supabase.co/functions/v1'`;
    const [{ called }] = await sql`select feyxa.call_edge_function('retry-failed-events', '{}'::jsonb) as called`;
    expect(called).toBe(false);

    await subscribe(sql, "poll.only", "poll.handler");
    const seen: string[] = [];
    const bus = testBus(sql, [defineHandler("poll.handler", async (event) => void seen.push(event.id))]);
    const [{ id }] = await sql<{ id: string }[]>`select feyxa.emit_event('poll.only', 'order', ${uuid()}::uuid, null, '{}'::jsonb) as id`;
    expect((await eventRow(sql, id)).status).toBe("pending");

    // No LISTEN either: the poll alone must find it.
    const dispatcher = new Dispatcher(bus, { listen: false, pollIntervalMs: 100, onError: () => {} });
    onTestFinished(() => dispatcher.stop());
    await dispatcher.start();
    const deadline = Date.now() + 10_000;
    while ((await eventRow(sql, id)).status !== "completed") {
      if (Date.now() > deadline) throw new Error("the polling dispatcher did not complete the event within 10 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toEqual([id]);
  });
});
