/**
 * read_metrics scans no log: over 1,000,000 events (and as many handler runs), the plans
 * auto_explain reports for every statement it runs, nested ones included, read the log only
 * through its time indexes (the range since the previous read) and the open events through
 * event_queue, each event by primary key. The alert rules' evaluation, every minute, the same;
 * and the health verdict's facts (health.sql), polled by the monitor, read no log at all.
 */
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { useDatabase } from "../../support/database.ts";

const { sql, superuserUrl } = await useDatabase();
const plans: string[] = [];
// LOAD 'auto_explain' takes a superuser (hosted projects do not let postgres load it either).
const explained = postgres(superuserUrl, { max: 1, onnotice: (notice) => plans.push(String(notice.message)) });
afterAll(() => explained.end());

const EVENTS = 1_000_000;
await sql`
  insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, attempt, processed_at, created_at)
  select 'plan.type_' || (i % 20), 'plan', gen_random_uuid(), 'plan-' || i, 'completed', 1, now() - interval '2 hours',
         now() - interval '1 minute' - (${EVENTS} - i) * interval '200 ms'
  from generate_series(1, ${EVENTS}) i`;
await sql`
  insert into feyxa.event_handlers_log (event_id, handler_name, attempt, status, duration_ms, created_at)
  select gen_random_uuid(), 'plan.handler_' || (i % 10), 1, case when i % 50 = 0 then 'failed' else 'success' end, i % 300,
         now() - interval '1 minute' - (${EVENTS} - i) * interval '200 ms'
  from generate_series(1, ${EVENTS}) i`;
await sql`
  insert into feyxa.webhook_deliveries (event_id, handler_name, attempt, status_code, created_at)
  select gen_random_uuid(), 'plan.hook', 1, 200, now() - interval '1 minute' - (200000 - i) * interval '1 s' from generate_series(1, 200000) i`;
// A thousand open events, as the state functions leave them: a backlog due now, some failed with a retry later.
await sql`
  with open as (
    insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, idempotency_key, status, next_retry_at, retry_count)
    select 'plan.type_' || (i % 20), 'plan', gen_random_uuid(), 'open-' || i,
           case when i % 4 = 0 then 'failed' else 'pending' end, case when i % 4 = 0 then now() + interval '1 hour' end, case when i % 4 = 0 then 1 else 0 end
    from generate_series(1, 1000) i returning id, next_retry_at)
  insert into feyxa.event_queue (event_id, due_at) select id, coalesce(next_retry_at, now() - interval '1 minute') from open`;
await sql`update feyxa.metric_cursor set counted_to = now() - interval '10 minutes'`;
// What autovacuum (and autosummarize, supabase/schemas/bus/events.sql) does to a log that grew: the
// BRIN ranges filled since the last summary are summarized, else a range scan reads them all.
await sql`select brin_summarize_new_values('feyxa.event_handlers_log_created_brin'), brin_summarize_new_values('feyxa.webhook_deliveries_created_brin')`;
await sql`analyze feyxa.events_log; analyze feyxa.event_handlers_log; analyze feyxa.webhook_deliveries; analyze feyxa.event_queue`.simple();
await explained`load 'auto_explain'`;
await explained`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_level', 'notice', false),
                       set_config('auto_explain.log_nested_statements', 'on', false), set_config('client_min_messages', 'notice', false)`;

describe("read_metrics over a million events", () => {
  it("reads the log by its time indexes and the open events by the queue, never by a scan of the log", async () => {
    plans.length = 0;
    const rows = await explained<{ metric: string; name: string; label: string; value: number }[]>`
      select * from feyxa.read_metrics('0 seconds')`;
    const plan = plans.join("\n");
    if (process.env.SHOW_PLANS) console.log(plan);
    expect(plan).toMatch(/events_log_created_idx/);
    expect(plan).toMatch(/event_handlers_log_created_brin/);
    expect(plan).toMatch(/webhook_deliveries_created_brin/);
    expect(plan).toMatch(/events_log_pkey/);
    // The functions pin search_path = feyxa: plans name the tables unqualified.
    expect(plan).not.toMatch(/Seq Scan on (feyxa\.)?(events_log|event_handlers_log|webhook_deliveries)\b/);
    // The last ten minutes of the generated log (up to 2,700 events and as many runs: the cursor was set after
    // the generation, which took a while) and the 1,000 open events.
    const sum = (metric: string) => rows.filter((r) => r.metric === metric).reduce((n, r) => n + r.value, 0);
    expect(sum("events_emitted")).toBeGreaterThan(1_500);
    expect(sum("events_emitted")).toBeLessThan(3_800);
    expect(sum("handler_runs")).toBeGreaterThan(500);
    expect(sum("handler_runs")).toBeLessThan(2_800);
    expect(rows.filter((r) => r.metric === "events" && r.label === "pending").reduce((n, r) => n + r.value, 0)).toBe(750);
    expect(rows.filter((r) => r.metric === "queue_due").reduce((n, r) => n + r.value, 0)).toBe(750);
  }, 60_000);
});

describe("evaluate_alerts over a million events", () => {
  it("reads each kind's value by an index, never by a scan of the log", async () => {
    await sql`
      insert into feyxa.webhook_deliveries (event_id, handler_name, attempt, status_code, created_at)
      select gen_random_uuid(), 'plan.down', 1, case when i <= 100 then 200 else 503 end, now() - interval '3 days' + i * interval '1 s'
      from generate_series(1, 20000) i`;
    await sql`analyze feyxa.webhook_deliveries`.simple();
    await sql`
      insert into feyxa.alert_rules (name, kind, event_type, handler_name, threshold) values
        ('plan dead', 'dead_letters', 'plan.type_1', null, 10), ('plan lag', 'lag', null, null, 3600),
        ('plan failing', 'failure_rate', null, 'plan.handler_0', 50), ('plan hook', 'endpoint_failing', null, 'plan.hook', 1),
        ('plan down', 'endpoint_failing', null, 'plan.down', 24)`;
    plans.length = 0;
    await explained`select feyxa.evaluate_alerts()`;
    const plan = plans.join("\n");
    if (process.env.SHOW_PLANS) console.log(plan);
    expect(plan).toMatch(/event_handlers_log_created_brin/);
    expect(plan).toMatch(/webhook_deliveries_handler_idx/);
    expect(plan).not.toMatch(/Seq Scan on (feyxa\.)?(events_log|event_handlers_log|webhook_deliveries)\b/);
    // plan.down has failed since its 100th delivery, about 3 days ago: it fires (and its route, none here, is turned off).
    const states = await sql<{ name: string; firing: boolean }[]>`
      select r.name, s.firing from feyxa.alert_rules r join feyxa.alert_states s on s.rule_id = r.id order by r.name`;
    expect(Object.fromEntries(states.map((s) => [s.name, s.firing]))).toEqual({
      "plan dead": false, "plan down": true, "plan failing": false, "plan hook": false, "plan lag": false,
    });
  }, 60_000);
});

describe("health_facts over a million events", () => {
  it("reads the head of the queue, the dead letters by the queue and the rollups\' minutes, never the log", async () => {
    // The rollups caught up with the log (the scheduler's every-minute fold, in a few calls).
    for (let i = 0; i < 50; i++) {
      const [{ to }] = await sql<{ to: Date }[]>`select feyxa.fold_stats(interval '1 day', interval '0 seconds') as to`;
      if (to.getTime() > Date.now() - 5_000) break;
    }
    await sql`insert into feyxa.worker_heartbeats (worker, role, runtime, started_at) values ('dispatcher:plan', 'dispatcher', 'node', now())`;
    plans.length = 0;
    const [facts] = await explained<{ lag_seconds: number; workers_live: number; runs_per_minute: string[] }[]>`select * from feyxa.health_facts()`;
    const plan = plans.join("\n");
    if (process.env.SHOW_PLANS) console.log(plan);
    expect(plan).toMatch(/event_queue_due_idx/);
    expect(plan).not.toMatch(/Seq Scan on (feyxa\.)?(events_log|event_handlers_log|webhook_deliveries)\b/);
    expect(plan).not.toMatch(/event_handlers_log_created_brin|events_log_created_idx/);
    expect(facts.lag_seconds).toBeGreaterThan(55); // the backlog, due a minute ago
    expect(facts.workers_live).toBe(1);
    expect(facts.runs_per_minute.map(Number).reduce((a, b) => a + b)).toBeGreaterThan(1_000); // the runs of the last ten minutes, folded above
  }, 60_000);
});
