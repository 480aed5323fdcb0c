/**
 * Every event's story (src/bus/story-sql.ts, supabase/schemas/bus/events.sql): what a
 * handler emits is caused by the event it runs for, in that event's story, whether it emits
 * from TypeScript, through an SQL function, or by a write whose trigger emits; and an HTTP
 * emit may name its cause. ctx.sql stays the pool in every other way.
 */
import { describe, expect, it } from "vitest";
import { defineHandler } from "../../src/bus/index.ts";
import type { Bus } from "../../src/bus/bus.ts";
import type { HandlerContext } from "../../src/bus/types.ts";
import { emitTest, subscribe, testBus, uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";

const { sql } = await useDatabase();
await sql.unsafe(`
  create table public.story_probe (id uuid primary key, note text);
  create function public.story_probe_emits() returns trigger language plpgsql set search_path = pg_catalog as $$
  begin
    perform feyxa.emit_event('story.by_trigger', 'test', new.id, null, '{}'::jsonb);
    return null;
  end $$;
  create trigger story_probe_emits after insert on public.story_probe for each row execute function public.story_probe_emits();`);

const storyOf = async (id: string) =>
  (await sql<{ causation_id: string | null; correlation_id: string | null }[]>`
    select causation_id, correlation_id from feyxa.events_log where id = ${id}::uuid`)[0];
const idsOf = async (type: string) =>
  (await sql<{ id: string }[]>`select id from feyxa.events_log where event_type = ${type} order by created_at`).map((r) => r.id);

let bus: Bus;
/** Every handler below, each run doing what its name says. */
const handlers = [
  defineHandler("story.sql_emit", async (_event, ctx) => {
    await ctx.sql`select feyxa.emit_event('story.child', 'test', gen_random_uuid(), null, '{}'::jsonb)`;
  }),
  defineHandler("story.grandchild", async (_event, ctx) => {
    await bus.emit({ event_type: "story.grandchild", aggregate_type: "test", aggregate_id: uuid() }, ctx.sql);
  }),
  defineHandler("story.write", async (_event, ctx) => {
    await ctx.sql`insert into public.story_probe (id, note) values (${uuid()}::uuid, ${"a write"})`;
  }),
  defineHandler("story.in_transaction", async (_event, ctx) => {
    await ctx.sql.begin((tx) => tx`select feyxa.emit_event('story.from_transaction', 'test', gen_random_uuid(), null, '{}'::jsonb)`);
  }),
  defineHandler("story.pool_as_ever", async (_event, ctx: HandlerContext) => {
    // Fragments, helpers and errors behave as the pool's own.
    const [{ x, j }] = await ctx.sql<{ x: number; j: { a: number } }[]>`select ${ctx.sql`1`}::int + 1 as x, ${ctx.sql.json({ a: 1 })}::jsonb as j`;
    if (x !== 2 || j.a !== 1) throw new Error(`fragments broke: ${x} ${JSON.stringify(j)}`);
    const columns = ["id", "note"];
    await ctx.sql`select ${ctx.sql(columns)} from public.story_probe limit 1`;
    await expect(ctx.sql`select 1 / 0`).rejects.toMatchObject({ code: "22012" });
    const [{ open }] = await sql<{ open: number }[]>`
      select count(*)::int as open from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`;
    if (open > 0) throw new Error("a transaction was left open on a connection");
  }),
];
bus = testBus(sql, handlers);
await subscribe(sql, "story.root", "story.sql_emit");
await subscribe(sql, "story.child", "story.grandchild");
await subscribe(sql, "story.write_root", "story.write");
await subscribe(sql, "story.tx_root", "story.in_transaction");
await subscribe(sql, "story.pool_root", "story.pool_as_ever");

const drain = async () => {
  for (let i = 0; i < 20; i++) if ((await bus.drainOnce(50)).length === 0) return;
};

describe("an event's story", () => {
  it("is none for an event emitted outside a handler: it is its own root", async () => {
    const id = await emitTest(bus, "story.alone");
    expect(await storyOf(id)).toEqual({ causation_id: null, correlation_id: null });
  });

  it("goes to what a handler emits through SQL, and down the chain to what that one's handler emits", async () => {
    const root = await emitTest(bus, "story.root");
    await drain();
    const [child] = await idsOf("story.child");
    const [grandchild] = await idsOf("story.grandchild");
    expect(await storyOf(child)).toEqual({ causation_id: root, correlation_id: root });
    expect(await storyOf(grandchild)).toEqual({ causation_id: child, correlation_id: root });
    const runs = await sql`select id, causation_handler from feyxa.events_log where id in ${sql([child, grandchild])} order by created_at`;
    expect(runs.map((r) => r.causation_handler)).toEqual(["story.sql_emit", "story.grandchild"]);
  });

  it("goes to what a trigger emits from a handler's write, and through a transaction the handler begins", async () => {
    const writeRoot = await emitTest(bus, "story.write_root");
    const txRoot = await emitTest(bus, "story.tx_root");
    await drain();
    expect(await storyOf((await idsOf("story.by_trigger"))[0])).toEqual({ causation_id: writeRoot, correlation_id: writeRoot });
    expect(await storyOf((await idsOf("story.from_transaction"))[0])).toEqual({ causation_id: txRoot, correlation_id: txRoot });
  });

  it("leaves ctx.sql the pool in every other way: fragments, helpers, errors, no transaction left open", async () => {
    const id = await emitTest(bus, "story.pool_root");
    await drain();
    const [run] = await sql`select status, error_message from feyxa.event_handlers_log where event_id = ${id}::uuid`;
    expect(run).toEqual({ status: "success", error_message: null });
  });

  it("may be named by an emit on another event's behalf, the correlation defaulting to the cause's story", async () => {
    const root = await emitTest(bus, "story.alone");
    const { eventId: caused } = await bus.emit({ event_type: "story.told", aggregate_type: "test", aggregate_id: uuid(), causation_id: root });
    const { eventId: deeper } = await bus.emit({ event_type: "story.told", aggregate_type: "test", aggregate_id: uuid(), causation_id: caused });
    const unknown = uuid();
    const { eventId: orphan } = await bus.emit({ event_type: "story.told", aggregate_type: "test", aggregate_id: uuid(), causation_id: unknown });
    expect(await storyOf(caused)).toEqual({ causation_id: root, correlation_id: root });
    expect(await storyOf(deeper)).toEqual({ causation_id: caused, correlation_id: root });
    expect(await storyOf(orphan)).toEqual({ causation_id: unknown, correlation_id: unknown });
    await expect(bus.emitMany([
      { event_type: "story.told", aggregate_type: "test", aggregate_id: uuid(), causation_id: root },
      { event_type: "story.told", aggregate_type: "test", aggregate_id: uuid() },
    ])).rejects.toMatchObject({ status: 400, field: "events.1.causation_id" });
  });

  it("never fails an emit over a malformed setting: the story is then none", async () => {
    const [row] = await sql.begin(async (tx) => {
      await tx`select set_config('feyxa.causation_id', 'not-a-uuid', true), set_config('feyxa.correlation_id', '''; drop table x', true)`;
      return await tx`select feyxa.emit_event('story.malformed', 'test', gen_random_uuid(), null, '{}'::jsonb) as id`;
    });
    expect(await storyOf(row.id)).toEqual({ causation_id: null, correlation_id: null });
  });
});
