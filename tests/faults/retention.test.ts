/**
 * Retention and scale: the purge removes only old completed events, in bounded batches,
 * keeping their idempotency keys; and with a million events in the log the claim still
 * reads only the open ones.
 */
import { describe, expect, it } from "vitest";
import { useDatabase } from "../support/database.ts";
import { testBus } from "../support/bus.ts";

const { sql } = await useDatabase();

describe("retention", () => {
  it("purges completed events older than the retention age, in batches, never failed or dead ones", async () => {
    await sql`
      insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, processed_at, next_retry_at, created_at)
      select 'ret.event', 'test', gen_random_uuid(), 'ret-' || i,
             (array['completed', 'completed', 'failed', 'dead'])[1 + i % 4],
             case when i % 4 in (0, 1, 3) then now() - interval '40 days' end,
             case when i % 4 = 2 then now() end,
             now() - interval '41 days'
      from generate_series(0, 399) i`;
    await sql`insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, processed_at)
              values ('ret.event', 'test', gen_random_uuid(), 'ret-recent', 'completed', now() - interval '1 day')`;
    const [{ id }] = await sql`select id from feyxa.events_log where idempotency_key = 'ret-0'`;
    await sql`insert into feyxa.event_handlers_log (event_id, handler_name, attempt, status) values (${id}, 'x.y', 1, 'success')`;

    const batches: number[] = [];
    for (let n = -1; n !== 0;) batches.push((n = (await sql`select feyxa.purge_completed_events(150) as n`)[0].n));
    expect(batches).toEqual([150, 50, 0]);
    const left = await sql`select status, count(*)::int as n from feyxa.events_log where event_type = 'ret.event' group by status order by status`;
    expect(left).toEqual([{ status: "completed", n: 1 }, { status: "dead", n: 100 }, { status: "failed", n: 100 }]);
    expect((await sql`select count(*)::int as n from feyxa.event_handlers_log where event_id = ${id}`)[0].n).toBe(0);
    // Their keys stay, for a re-emit to be a duplicate (tests/bus/idempotency-horizon.test.ts).
    const [kept] = await sql`select count(*)::int as n, bool_or(event_id = ${id}) as has_first from feyxa.purged_event_keys where idempotency_key like 'ret-%'`;
    expect(kept).toEqual({ n: 200, has_first: true });
    await expect(sql`select feyxa.purge_completed_events(0)`).rejects.toMatchObject({ code: "22023", detail: "batch" });
  });

  it("with a million events, the claim reads only the open ones, through its indexes", async () => {
    await sql`delete from feyxa.events_log where event_type = 'ret.event'`; // the previous test's failed (due) events
    await sql`
      insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, processed_at)
      select 'scale.done', 'test', gen_random_uuid(), 'scale-' || i, 'completed', now()
      from generate_series(1, 1000000) i`;
    await sql`select feyxa.emit_event('scale.fresh', 'test', gen_random_uuid(), null, '{}'::jsonb)`;
    await sql`analyze feyxa.events_log`;

    const plan = async (query: string) => (await sql.unsafe(`explain ${query}`)).map((r) => r["QUERY PLAN"]).join("\n");
    // The claim reads event_queue (open events only: here one), then starts the events it
    // took by primary key; the reaper reads the queue's leases.
    const due = await plan(`select event_id from feyxa.event_queue where locked_by is null and due_at <= now() order by due_at limit 50 for update skip locked`);
    const expired = await plan(`select event_id from feyxa.event_queue where locked_by is not null and due_at < now() order by due_at limit 1000 for update skip locked`);
    const [{ id }] = await sql`select event_id as id from feyxa.event_queue`;
    const lease = await plan(`update feyxa.events_log set status = 'processing' where id = any (array['${id}']::uuid[]) and status in ('pending', 'failed')`);
    console.log(`EXPLAIN of the claim over 1,000,001 events:\n${due}\n${expired}\n${lease}`);
    expect(`${due}${expired}`).not.toContain("events_log");
    expect(lease).toMatch(/Index Scan using events_log_pkey/);
    expect(lease).not.toContain("Seq Scan");
    expect((await sql`select count(*)::int as n from feyxa.event_queue`)[0].n).toBe(1);

    const started = performance.now();
    const claimed = await testBus(sql, []).claimDue(50);
    expect(claimed.map((c) => c.type)).toEqual(["scale.fresh"]);
    console.log(`claim over 1,000,001 events: ${(performance.now() - started).toFixed(1)} ms`);
  }, 120_000);
});
