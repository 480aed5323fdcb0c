/**
 * The bus's move into its own schema (20261127900000_bus_schema.sql) on a database that
 * already holds events: the release before it is applied first, events are emitted and
 * half processed, then the move; every row is found in `feyxa` and the bus carries on, and
 * (with pg_cron, the PostgreSQL 15 tier) every cron job calls the bus by its new name.
 * And what the Data API may see of it: nothing (not in config.toml's exposed schemas, no
 * USAGE for anon).
 */
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, migrate } from "../../src/local/migrate.ts";
import { asApiRole } from "../support/as-role.ts";
import { useDatabase } from "../support/database.ts";

const db = await useDatabase();
const MOVE = "20261127900000";

describe("the bus schema", () => {
  it("moves a live bus into feyxa with every row, and the bus carries on there", async () => {
    const released = await mkdtemp(join(tmpdir(), "feyxa-released-"));
    for (const f of (await readdir(MIGRATIONS_DIR)).filter((f) => f < MOVE)) await cp(join(MIGRATIONS_DIR, f), join(released, f));
    await db.sql.unsafe(`drop schema feyxa cascade; truncate supabase_migrations.schema_migrations`);
    await migrate(db.sql, released);
    await rm(released, { recursive: true });

    // The released bus, in public: three events, one claimed and completed.
    await db.sql`select public.emit_event('x.made', 'x', gen_random_uuid(), null, '{}'::jsonb) from generate_series(1, 3)`;
    const [claimed] = await db.sql`select id from public.claim_events('w', 1)`;
    await db.sql`select * from public.complete_attempts('w', ${db.sql.json([{ event_id: claimed.id, attempt: 1, handlers: [] }])})`;
    const before = await db.sql`select id, status from public.events_log order by id`;
    // Where pg_cron is installed (the PostgreSQL 15 tier), a job scheduled by hand the way
    // docs/deploy.md said before the move, its function unqualified.
    const [{ cron }] = await db.sql`select to_regclass('cron.job') is not null as cron`;
    if (cron) await db.sql`select cron.schedule('feyxa-purge-completed-events', '*/10 * * * *', 'select purge_completed_events(10000)')`;

    expect(await migrate(db.sql)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${MOVE}_`))]));
    expect(await db.sql`select to_regclass('public.events_log') as t`).toEqual([{ t: null }]);
    expect(await db.sql`select id, status from feyxa.events_log order by id`).toEqual(before);
    const [{ open }] = await db.sql`select count(*)::int as open from feyxa.event_queue`;
    expect(open).toBe(2);
    const next = await db.sql`select id from feyxa.claim_events('w', 10)`;
    expect(next).toHaveLength(2);
    if (cron) {
      const jobs = await db.sql`select jobname, command from cron.job where jobname like 'feyxa-%' order by 1`;
      expect(jobs.map((j) => [j.jobname, j.command.trim()])).toEqual([
        ["feyxa-purge-completed-events", "select feyxa.purge_completed_events(10000)"],
        ["feyxa-retry-failed-events", "select feyxa.call_edge_function('retry-failed-events', '{}'::jsonb)"],
      ]);
    }
  });

  it("keeps the bus's writes in the bus: no SQL function outside feyxa writes a feyxa table", async () => {
    // The application reaches the bus through its functions (emit_event, sync_routes, the
    // operator transitions), never by writing its tables; tests/bus/state-machine.test.ts
    // then says which of the bus's own functions may move an event. A body is text to
    // PostgreSQL (pg_depend does not see into it), hence a scan of prosrc.
    const [writes, end] = [String.raw`(update|insert\s+into|delete\s+from|truncate)\s+(only\s+)?("?feyxa"?\.)?"?(`, String.raw`)"?\M`];
    const writers = await db.sql<{ fn: string }[]>`
      with bus as (select string_agg(relname, '|') as tables from pg_class
                   where relnamespace = 'feyxa'::regnamespace and relkind in ('r', 'p'))
      select p.oid::regprocedure::text as fn from pg_proc p, bus
      where p.pronamespace not in ('feyxa'::regnamespace, 'pg_catalog'::regnamespace, 'information_schema'::regnamespace)
        and p.prolang in (select oid from pg_language where lanname in ('sql', 'plpgsql'))
        and p.prosrc ~* (${writes} || bus.tables || ${end})
      order by 1`;
    expect(writers.map((w) => w.fn)).toEqual([]);
    const rollback = new Error("rollback"); // and it would see one
    await expect(db.sql.begin(async (tx) => {
      await tx.unsafe(`create function public.rogue_route() returns void language sql
                       as $$ insert into feyxa.event_subscriptions (event_pattern, handler_name) values ('x.y', 'x.z') $$`);
      const [{ n }] = await tx`select count(*)::int as n from pg_proc p where p.proname = 'rogue_route'
        and p.prosrc ~* (${writes} || 'event_subscriptions' || ${end})`;
      expect(n).toBe(1);
      throw rollback;
    })).rejects.toBe(rollback);
  });

  it("is out of the Data API's reach: not an exposed schema, no USAGE for anon", async () => {
    const config = await readFile(new URL("../../supabase/config.toml", import.meta.url), "utf8");
    expect(config.match(/^schemas\s*=.*$/m)?.[0]).toBe('schemas = ["public", "graphql_public"]');
    const [usage] = await db.sql`
      select has_schema_privilege('anon', 'feyxa', 'usage') as anon, has_schema_privilege('authenticated', 'feyxa', 'create') as create_`;
    expect(usage).toEqual({ anon: false, create_: false });
  });

  it("gives the API roles exactly this of the bus: reads under RLS, the operator verbs (which refuse non-operators), the hooks", async () => {
    // anon nothing at all; a signed-in user what the monitor reads as the caller, each table
    // under RLS, and the functions tests/security/api-surface.test.ts tries as a stranger.
    const tables = await db.sql`
      select c.relname as name, c.relrowsecurity as rls,
             array(select p from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
                   where has_table_privilege('authenticated', c.oid, p)) as privileges,
             array(select p from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
                   where has_table_privilege('anon', c.oid, p)) as anon
      from pg_class c where c.relnamespace = 'feyxa'::regnamespace and c.relkind in ('r', 'v', 'm', 'p') order by 1`;
    const readable = tables.filter((t) => t.privileges.length);
    expect(tables.filter((t) => t.anon.length)).toEqual([]);
    expect(readable.map((t) => [t.name, t.privileges.join()])).toEqual([
      // the alert rules: the operators' to manage from the monitor (20261129300003), under RLS
      ["aggregate_stream_events", "SELECT"], ["alert_notices", "SELECT"], ["alert_rules", "SELECT,INSERT,UPDATE,DELETE"], ["alert_states", "SELECT"],
      ["event_handlers_log", "SELECT"], ["event_queue", "SELECT"],
      ["events_log", "SELECT"], ["handler_minutes", "SELECT"], ["monitor_actions", "SELECT"],
      // the monitor's rollups (stats.sql): operators read them
      ["stats_closed", "SELECT"], ["stats_cursor", "SELECT"], ["stats_minutes", "SELECT"], ["webhook_deliveries", "SELECT"],
    ]);
    expect(readable.filter((t) => !t.rls).map((t) => t.name)).toEqual([]);
    const functions = await db.sql`
      select p.proname as name, has_function_privilege('anon', p.oid, 'execute') as anon
      from pg_proc p where p.pronamespace = 'feyxa'::regnamespace and has_function_privilege('authenticated', p.oid, 'execute')
      order by 1`;
    expect(functions.filter((f) => f.anon)).toEqual([]);
    expect(functions.map((f) => f.name)).toEqual([
      // health_facts: the monitor's health line, refusing anyone but an operator (tests/bus/telemetry/health.test.ts)
      "bulk_discard", "bulk_redrive", "bulk_retry", "cancel_event", "discard_event", "error_fingerprint", "health_facts", "monitor_owed_handlers",
      "monitor_redrive_dead", "monitor_replay_event", "monitor_retry_budget", "monitor_retry_event", "monitor_route_policy", "monitor_route_steps",
      "monitor_route_waiting", "monitor_routed_handlers", "monitor_routes", "monitor_waiting", "pause_route", "reader_is_operator",
      "reader_tenant_labels", "reader_tenants", "redrive_dead", "replay_event", "resume_route", "retry_event", "story_seeds", "tenant_label",
      "waiting_reason",
    ]);
  });

  it("knows no provider's business: receive_webhook sees only feyxa, and the Stripe effect is the application's answer to webhook_effect", async () => {
    const [inbox] = await db.sql`select pg_get_functiondef('feyxa.receive_webhook(text, text, text, jsonb)'::regprocedure) as body`;
    expect(inbox.body).not.toMatch(/stripe|public\./i);
    expect(inbox.body).toContain("SET search_path TO 'feyxa', 'pg_catalog'");
  });

  it("defines each hook in the bus once, and lets only the application answer it after", async () => {
    // The application's answer replaces the bus's body; a later bus migration that
    // redefined a hook would silently undo the application's answer.
    const hooks: Record<string, [bus: string, app: string]> = {
      reader_is_operator: ["20261127900001_bus_read_policy.sql", "20261127900002_marketplace_bus_policy.sql"],
      reader_tenants: ["20261127900001_bus_read_policy.sql", "20261127900002_marketplace_bus_policy.sql"],
      webhook_effect: ["20261127910000_webhook_effect_hook.sql", "20261127910001_marketplace_webhook_effect.sql"],
      reader_tenant_labels: ["20261127920000_monitor_tenant_hooks.sql", "20261127920001_marketplace_tenant_labels.sql"],
      tenant_label: ["20261127920000_monitor_tenant_hooks.sql", "20261127920001_marketplace_tenant_labels.sql"],
    };
    const files = (await readdir(MIGRATIONS_DIR)).sort();
    const texts = await Promise.all(files.map((f) => readFile(join(MIGRATIONS_DIR, f), "utf8")));
    for (const [hook, expected] of Object.entries(hooks)) {
      const defining = files.filter((_, i) => new RegExp(`create\\s+or\\s+replace\\s+function\\s+feyxa\\.${hook}\\(`, "i").test(texts[i]));
      expect(defining, hook).toEqual(expected);
    }
    const [hook] = await db.sql`select pg_get_functiondef('feyxa.reader_tenants()'::regprocedure) as body`;
    expect(hook.body).toContain("public.store_members");
  });

  it("shows events to no signed-in user while the application has not answered the hooks", async () => {
    const admin = crypto.randomUUID();
    await db.sql`insert into auth.users (id) values (${admin})`;
    await db.sql`insert into marketplace_admins (user_id) values (${admin})`;
    await db.sql`select feyxa.emit_event('x.kept', 'x', gen_random_uuid(), null, '{}'::jsonb)`;
    // (its policy names the tenant column by its name then; 20261127930000 renamed it)
    const busOnly = (await readFile(join(MIGRATIONS_DIR, "20261127900001_bus_read_policy.sql"), "utf8")).replaceAll("store_id", "tenant_id");
    let seen: unknown;
    const rollback = new Error("rollback");
    await db.sql.begin(async (tx) => {
      await tx.unsafe(busOnly); // the bus's own bodies again, as before the marketplace's answer
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: admin, role: "authenticated" })}, true),
                      set_config('role', 'authenticated', true)`;
      [seen] = await tx`select count(*)::int as n, feyxa.monitor_routed_handlers('order.created') as routed from feyxa.events_log`;
      throw rollback;
    }).catch((error) => {
      if (error !== rollback) throw error;
    });
    expect(seen).toEqual({ n: 0, routed: [] });
    const [{ n }] = (await asApiRole(db.sql, "authenticated", admin, (tx) => tx`select count(*)::int as n from feyxa.events_log`)) as { n: number }[];
    expect(n).toBeGreaterThan(0); // the marketplace's answer, back after the rollback: an admin reads every event
    const [{ routed }] = (await asApiRole(db.sql, "authenticated", admin, (tx) => tx`select feyxa.monitor_routed_handlers('order.created') as routed`)) as { routed: string[] }[];
    expect(routed).toContain("fintech.create_escrow");
  });
});
