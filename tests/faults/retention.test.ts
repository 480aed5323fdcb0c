/**
 * Retention and scale: the purge removes only old completed events, in bounded batches;
 * and with a million events in the table the claim still reads its partial indexes.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { testBus } from "../support/bus.ts";

const { sql } = await useDatabase();

describe("retention", () => {
  it("purges completed events older than the retention age, in batches, never failed or dead ones", async () => {
    await sql`
      insert into events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, processed_at, next_retry_at, created_at)
      select 'ret.event', 'test', gen_random_uuid(), 'ret-' || i,
             (array['completed', 'completed', 'failed', 'dead'])[1 + i % 4],
             case when i % 4 in (0, 1, 3) then now() - interval '40 days' end,
             case when i % 4 = 2 then now() end,
             now() - interval '41 days'
      from generate_series(0, 399) i`;
    await sql`insert into events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, processed_at)
              values ('ret.event', 'test', gen_random_uuid(), 'ret-recent', 'completed', now() - interval '1 day')`;
    const [{ id }] = await sql`select id from events_log where idempotency_key = 'ret-0'`;
    await sql`insert into event_handlers_log (event_id, handler_name, attempt, status) values (${id}, 'x.y', 1, 'success')`;

    const batches: number[] = [];
    for (let n = -1; n !== 0;) batches.push((n = (await sql`select purge_completed_events(150) as n`)[0].n));
    expect(batches).toEqual([150, 50, 0]);
    const left = await sql`select status, count(*)::int as n from events_log where event_type = 'ret.event' group by status order by status`;
    expect(left).toEqual([{ status: "completed", n: 1 }, { status: "dead", n: 100 }, { status: "failed", n: 100 }]);
    expect((await sql`select count(*)::int as n from event_handlers_log where event_id = ${id}`)[0].n).toBe(0);
    await expect(sql`select purge_completed_events(0)`).rejects.toMatchObject({ code: "22023", detail: "batch" });
  });

  it("with a million events, the claim still uses its indexes", async () => {
    await sql`delete from events_log where event_type = 'ret.event'`; // the previous test's failed (due) events
    await sql`
      insert into events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, processed_at)
      select 'scale.done', 'test', gen_random_uuid(), 'scale-' || i, 'completed', now()
      from generate_series(1, 1000000) i`;
    await sql`select emit_event('scale.fresh', 'test', gen_random_uuid(), null, '{}'::jsonb)`;
    await sql`analyze events_log`;

    const plan = async (query: string) => (await sql.unsafe(`explain ${query}`)).map((r) => r["QUERY PLAN"]).join("\n");
    const pending = await plan(`select id from events_log where status = 'pending' order by created_at limit 50 for update skip locked`);
    const due = await plan(`select id from events_log where status = 'failed' and next_retry_at <= now() order by next_retry_at limit 50 for update skip locked`);
    const expired = await plan(`select id from events_log where status = 'processing' and locked_until < now() order by locked_until limit 1000 for update skip locked`);
    console.log(`EXPLAIN of the claim's three reads over 1,000,001 events:\n${pending}\n${due}\n${expired}`);
    // Which index the planner prefers depends on the statistics (a partial index, or one on
    // status); what matters is that each read is an index scan, never a scan of the table.
    for (const read of [pending, due, expired]) expect(read).toMatch(/Index Scan using events_log_\w+_idx/);
    expect(`${pending}${due}${expired}`).not.toContain("Seq Scan");

    const started = performance.now();
    const claimed = await testBus(sql, []).claimDue(50);
    expect(claimed.map((c) => c.type)).toEqual(["scale.fresh"]);
    console.log(`claim over 1,000,001 events: ${(performance.now() - started).toFixed(1)} ms`);
  }, 120_000);
});
