/**
 * sync_routes / syncRoutes: the routes handlers declare in code become event_subscriptions
 * rows of their source, idempotently; an operator's toggle holds, a route dropped from code
 * is retired (and revived if declared again), and operators' and remote rows, and other
 * sources' rows, are never touched.
 */
import { describe, expect, it } from "vitest";
import { defineHandler } from "../../src/bus/define-handler.ts";
import { declaredRoutes, syncRoutes, syncRoutesOnce } from "../../src/bus/route-sync.ts";
import { useDatabase } from "../support/database.ts";

const db = await useDatabase();
const { sql } = db;

const noop = async () => {};
const ping = defineHandler("sync.ping", noop, { on: ["sync.pinged", "sync.*"] });
const pong = defineHandler("sync.pong", noop, { on: ["sync.pinged"] });
const rows = () => sql`
  select event_pattern, handler_name, is_active, managed_by, retired_at is not null as retired
  from feyxa.event_subscriptions where event_pattern like 'sync.%' or handler_name like 'sync.%' order by 1, 2, 4`;

describe("syncing the routes declared in code", () => {
  it("adds them once: a second sync changes nothing", async () => {
    expect(await syncRoutes(sql, "synctest", [ping, pong])).toEqual({ added: 3, revived: 0, retired: 0 });
    const first = await rows();
    expect(await syncRoutes(sql, "synctest", [ping, pong])).toEqual({ added: 0, revived: 0, retired: 0 });
    expect(await rows()).toEqual(first);
    expect(first.map((r) => [r.event_pattern, r.handler_name, r.is_active, r.managed_by])).toEqual([
      ["sync.*", "sync.ping", true, "synctest"],
      ["sync.pinged", "sync.ping", true, "synctest"],
      ["sync.pinged", "sync.pong", true, "synctest"],
    ]);
  });

  it("keeps an operator's toggle", async () => {
    await sql`update feyxa.event_subscriptions set is_active = false where handler_name = 'sync.pong'`;
    await syncRoutes(sql, "synctest", [ping, pong]);
    const [pongRow] = await sql`select is_active from feyxa.event_subscriptions where handler_name = 'sync.pong'`;
    expect(pongRow.is_active).toBe(false);
    await sql`update feyxa.event_subscriptions set is_active = true where handler_name = 'sync.pong'`;
  });

  it("retires a route dropped from code, and revives it when declared again", async () => {
    const narrower = defineHandler("sync.ping", noop, { on: ["sync.pinged"] });
    expect(await syncRoutes(sql, "synctest", [narrower, pong])).toEqual({ added: 0, revived: 0, retired: 1 });
    const [retired] = await sql`select is_active, retired_at from feyxa.event_subscriptions where event_pattern = 'sync.*'`;
    expect(retired.is_active).toBe(false);
    expect(retired.retired_at).toBeInstanceOf(Date);
    expect(await syncRoutes(sql, "synctest", [narrower, pong])).toEqual({ added: 0, revived: 0, retired: 0 });
    expect(await syncRoutes(sql, "synctest", [ping, pong])).toEqual({ added: 0, revived: 1, retired: 0 });
    const [back] = await sql`select is_active, retired_at from feyxa.event_subscriptions where event_pattern = 'sync.*'`;
    expect(back).toEqual({ is_active: true, retired_at: null });
  });

  it("never touches an operator's rows, remote handlers, or another source's routes", async () => {
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name) values ('sync.pinged', 'sync.by_hand')`;
    await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name, target_kind, target)
      values ('sync.pinged', 'sync.remote', 'function', 'elsewhere')`;
    await syncRoutes(sql, "othersource", [defineHandler("sync.other", noop, { on: ["sync.other"] })]);
    const before = await rows();
    // An operator's row for a pair code now declares stays the operator's.
    const byHand = defineHandler("sync.by_hand", noop, { on: ["sync.pinged"] });
    await syncRoutes(sql, "synctest", [byHand]);
    await syncRoutes(sql, "synctest", []);
    const after = await rows();
    const untouched = (list: typeof before) => list.filter((r) => r.managed_by !== "synctest");
    expect(untouched(after)).toEqual(untouched(before));
    expect(after.filter((r) => r.managed_by === "synctest").every((r) => r.retired && !r.is_active)).toBe(true);
    expect(after.find((r) => r.handler_name === "sync.by_hand")).toMatchObject({ managed_by: null, is_active: true });
  });

  it("refuses a malformed call as bad input (22023 / 23514), not as a crash", async () => {
    await expect(sql`select feyxa.sync_routes('Bad Source', '[]')`).rejects.toMatchObject({ code: "22023" });
    await expect(sql`select feyxa.sync_routes('synctest', '{}')`).rejects.toMatchObject({ code: "22023" });
    await expect(sql`select feyxa.sync_routes('synctest', '[{"event_pattern": "x"}]')`).rejects.toMatchObject({ code: "22023" });
    await expect(sql`select feyxa.sync_routes('synctest', '[{"event_pattern": "Not A Pattern", "handler_name": "a.b"}]')`)
      .rejects.toMatchObject({ code: "23514" });
  });

  it("syncRoutesOnce syncs on the first call only, and again after a failure, never throwing", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const counting = new Proxy(sql, { apply: (target, self, args) => (calls++, Reflect.apply(target, self, args)) });
    const once = syncRoutesOnce(counting, "synctest", [ping], (e) => errors.push(e));
    await once();
    await once();
    expect(calls).toBe(1);
    const failing = syncRoutesOnce(sql, "Bad Source", [ping], (e) => errors.push(e));
    await failing();
    await failing();
    expect(errors).toHaveLength(2);
  });

  it("handlers declare well-formed patterns, or fail at definition", () => {
    expect(() => defineHandler("sync.bad", noop, { on: ["Order Created"] })).toThrow(/event pattern/);
    expect(() => defineHandler("sync.bad", noop, { on: [] })).toThrow(/no event pattern/);
    expect(declaredRoutes([ping, defineHandler("sync.data_routed", noop)])).toEqual([
      { event_pattern: "sync.*", handler_name: "sync.ping" },
      { event_pattern: "sync.pinged", handler_name: "sync.ping" },
    ]);
  });

  it("never pays for JIT: the functions the planner overestimates run with jit off (400 ms a sync on a server with LLVM)", async () => {
    const rows = await db.sql<{ fn: string; config: string[] | null }[]>`
      select p.oid::regprocedure::text as fn, p.proconfig as config from pg_proc p
      where p.oid in ('feyxa.sync_routes(text, jsonb)'::regprocedure, 'feyxa.fair_claimable(int)'::regprocedure,
                      'feyxa.complete_attempts(text, jsonb)'::regprocedure, 'feyxa.emit_events(jsonb)'::regprocedure,
                      'feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text, timestamptz, int, text)'::regprocedure,
                      'feyxa.claim_events(text, int, interval)'::regprocedure, 'feyxa.claim_event(uuid, text, interval)'::regprocedure)`;
    expect(rows).toHaveLength(7);
    for (const row of rows) expect(row.config, row.fn).toContain("jit=off");
  });
});
