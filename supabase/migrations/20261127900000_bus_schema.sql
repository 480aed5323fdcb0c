-- The bus moves into a schema of its own, `feyxa`, as graphile-worker lives in
-- `graphile_worker`, pg-boss in `pgboss` and pgmq in `pgmq`. Supabase's Data API exposes
-- `public` (config.toml [api] schemas), so nothing of the bus is reachable through REST
-- or GraphQL any more, whatever a grant says; `public` keeps the application.
--
-- Moved, not recreated: ALTER ... SET SCHEMA keeps every row, index, constraint, trigger,
-- grant, comment and policy of a table (a policy and a trigger hold their objects by oid),
-- and every grant and comment of a function. What names objects by text does not follow:
-- the bodies of plpgsql and SQL functions, resolved through their pinned search_path, and
-- pg_cron's command. Both are rewritten below.
--
-- The bus's read rules no longer name the marketplace: events_log is read by a reader
-- the bus asks two hook functions about, feyxa.reader_is_operator() and
-- feyxa.reader_tenants(), which deny everything until the application replaces them
-- (20261127900001 does, for the marketplace: admins, and store members for their stores).
-- The tenant key is events_log.store_id (a generic, optional uuid to the bus; the name is
-- kept in this step: see docs/bus-schema.md).

create schema if not exists feyxa;
comment on schema feyxa is
  'Feyxa Engine, the event bus: its tables, types and functions. Not exposed by the Data API; applications call its functions.';
-- Usage, not create: the server role calls the bus; a signed-in user reaches it only when
-- the monitor reads as the caller (RLS then decides) and through the monitor_* functions.
revoke all on schema feyxa from public;
grant usage on schema feyxa to service_role, authenticated;

-- The tables, with their data.
alter table events_log set schema feyxa;
alter table event_queue set schema feyxa;
alter table event_handlers_log set schema feyxa;
alter table event_subscriptions set schema feyxa;
alter table event_bus_settings set schema feyxa;
alter table purged_event_keys set schema feyxa;
alter table webhook_secrets set schema feyxa;
alter table webhook_deliveries set schema feyxa;
alter table processed_webhooks set schema feyxa;
alter table monitor_actions set schema feyxa;
alter table aggregate_streams set schema feyxa;
alter table aggregate_stream_events set schema feyxa;
alter table aggregate_snapshots set schema feyxa;

-- The types (the domains' checks hold event_type_is_valid by oid).
alter domain event_type_name set schema feyxa;
alter domain aggregate_type_name set schema feyxa;
alter domain event_payload set schema feyxa;
alter type claimed_event set schema feyxa;

-- The functions, every overload. Their search_path is pinned again to the bus's schema:
-- a bus function sees feyxa and pg_catalog; one that signs (pgcrypto's hmac lives in
-- `extensions`) sees extensions too. receive_webhook still calls the marketplace's
-- apply_stripe_payment_succeeded, so it sees public until that effect becomes a handler
-- of webhook.received (issue 13, item 2).
do $$
declare
  f record;
begin
  for f in
    select p.oid, p.proname, p.proconfig
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in (
        'event_type_is_valid', 'call_edge_function', 'wake_dispatchers_by_http', 'wake_dispatchers',
        'notify_events_on_commit', 'assert_event_input', 'default_idempotency_key',
        'emit_event_report', 'emit_event', 'emit_events',
        'reap_expired_leases', 'lease_events', 'assert_claim_input', 'claim_events', 'claim_event',
        'renew_leases', 'release_events', 'enqueue_events', 'tidy_event_queue',
        'retry_delay', 'handler_runs', 'complete_attempts', 'notify_subscriptions_changed',
        'monitor_routed_handlers', 'monitor_assert_admin', 'monitor_begin_action', 'monitor_finish_action',
        'monitor_lock_event', 'monitor_retry_event', 'monitor_redrive_dead', 'monitor_replay_event',
        'monitor_owed_handlers',
        'payload_checksum', 'append_to_stream', 'verify_stream_checksums', 'purge_completed_events',
        'add_webhook_secret', 'webhook_sign', 'webhook_signatures', 'webhook_delivery_plan',
        'record_webhook_delivery', 'receive_webhook',
        'outbound_ipv4', 'outbound_non_public_range', 'outbound_host_inet', 'outbound_url_refusal',
        'refuse_non_public_url', 'check_subscription_url')
  loop
    execute format('alter function %s set schema feyxa', f.oid::regprocedure);
    if exists (select 1 from unnest(f.proconfig) c where c like 'search_path=%public%') then
      execute format('alter function %s set search_path = %s', f.oid::regprocedure,
        case
          when f.proname = 'receive_webhook' then 'feyxa, public, pg_catalog'
          when exists (select 1 from unnest(f.proconfig) c where c like '%extensions%') then 'feyxa, extensions, pg_catalog'
          else 'feyxa, pg_catalog'
        end);
    end if;
  end loop;
end;
$$;

-- The read-policy hooks: who reads which events. The bus asks, the application answers by
-- replacing these two bodies (same signatures) in its own migration. Until then they
-- deny: a bus without an application shows its events to the server roles only.
-- Both are called once per query, never per row: the policies wrap them in a scalar
-- sub-select, which the planner runs once as an initplan (the monitor reads millions of
-- rows through these policies), and a tenant list then meets the store index as = any().
create or replace function feyxa.reader_is_operator()
returns boolean
language sql stable
set search_path = feyxa, pg_catalog
as $$ select false $$;
comment on function feyxa.reader_is_operator() is
  'Read-policy hook: true when the current request''s user operates the whole bus (reads every event, acts on events in the monitor). The bus''s own body denies; the application replaces it.';

create or replace function feyxa.reader_tenants()
returns uuid[]
language sql stable
set search_path = feyxa, pg_catalog
as $$ select '{}'::uuid[] $$;
comment on function feyxa.reader_tenants() is
  'Read-policy hook: the tenant keys (events_log.store_id) whose events the current request''s user may read. The bus''s own body returns none; the application replaces it.';

revoke all on function feyxa.reader_is_operator(), feyxa.reader_tenants() from public, anon, authenticated;
grant execute on function feyxa.reader_is_operator(), feyxa.reader_tenants() to authenticated, service_role;

-- The policies that named the marketplace (store_members, is_marketplace_admin) ask the
-- hooks instead. The others (handler runs, open events, stream rows: visible when their
-- event is) hold events_log by oid and moved with their tables unchanged.
drop policy if exists events_log_read on feyxa.events_log;
create policy events_log_read on feyxa.events_log for select to authenticated
  using ((select feyxa.reader_is_operator()) or store_id = any ((select feyxa.reader_tenants())::uuid[]));
drop policy if exists monitor_actions_read on feyxa.monitor_actions;
create policy monitor_actions_read on feyxa.monitor_actions for select to authenticated
  using ((select feyxa.reader_is_operator()));

-- The monitor's two checks of the caller, through the hooks.
create or replace function feyxa.monitor_assert_admin()
returns void
language plpgsql stable
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if auth.uid() is null or not reader_is_operator() then
    raise exception using errcode = '42501', message = 'only operators can act on events';
  end if;
end;
$$;
comment on function feyxa.monitor_assert_admin() is
  'Raises insufficient_privilege (42501) unless the current request''s user is an operator (feyxa.reader_is_operator()).';

-- Mirrors patternMatches in src/bus/router.ts. A signed-in user who is neither an operator
-- nor reads any tenant gets nothing; the server (no request claims) gets the routing.
create or replace function feyxa.monitor_routed_handlers(p_event_type text)
returns text[]
language plpgsql stable
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') is not distinct from 'authenticated'
     and not reader_is_operator()
     and cardinality(reader_tenants()) = 0 then
    return '{}';
  end if;
  return (
    select coalesce(array_agg(distinct s.handler_name order by s.handler_name), '{}')
    from event_subscriptions s
    where s.is_active
      and (s.event_pattern = '*'
           or s.event_pattern = p_event_type
           or (right(s.event_pattern, 2) = '.*' and starts_with(p_event_type, left(s.event_pattern, -1)))));
end;
$$;
comment on function feyxa.monitor_routed_handlers(text) is
  'The active handler names an event type is routed to (same matching as the dispatcher''s Router: *, prefix.*, exact); empty for a signed-in user who is neither an operator nor reads any tenant.';

-- The bus knows no event type of the application: once-per-aggregate types are the
-- application's to list (the existing row keeps its list; a new install starts empty).
alter table feyxa.event_bus_settings alter column once_per_aggregate set default '{}';

-- The application's functions that call the bus (the triggers' emit_event, checkout, the
-- escrow and payment functions, the automations' subscription sync...) resolve bus names
-- through their own pinned search_path, never the session's: feyxa joins it after public.
do $$
declare
  f record;
  moved text := '\m(events_log|event_queue|event_handlers_log|event_subscriptions|event_bus_settings|purged_event_keys'
    '|webhook_secrets|webhook_deliveries|processed_webhooks|monitor_actions|aggregate_stream_events|aggregate_streams'
    '|aggregate_snapshots|emit_event|emit_event_report|emit_events|append_to_stream|outbound_url_refusal'
    '|refuse_non_public_url|webhook_signatures|wake_dispatchers)\M';
begin
  for f in
    select p.oid::regprocedure as sig, p.proconfig
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace and p.prosrc ~ moved
  loop
    execute format('alter function %s set search_path = %s', f.sig,
      case when exists (select 1 from unnest(f.proconfig) c where c like '%extensions%')
           then 'public, feyxa, extensions, pg_catalog' else 'public, feyxa, pg_catalog' end);
  end loop;
end;
$$;

-- pg_cron's job names its function by text: schedule it again, qualified (same job name,
-- so cron.schedule replaces it). Absent pg_cron (a plain Postgres), nothing to do.
do $$
begin
  if to_regclass('cron.job') is null then
    return;
  end if;
  execute $q$
    select cron.schedule('feyxa-retry-failed-events', '* * * * *',
             $job$ select feyxa.call_edge_function('retry-failed-events', '{}'::jsonb) $job$)
    where exists (select 1 from cron.job where jobname = 'feyxa-retry-failed-events')$q$;
end;
$$;
