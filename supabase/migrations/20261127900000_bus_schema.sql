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
-- The read rules that named the marketplace are replaced next (20261127900001).

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
-- apply_stripe_payment_succeeded here, so it sees public until …910000 moves that effect
-- behind a hook the application answers (feyxa.webhook_effect).
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
        'monitor_routed_handlers', 'monitor_assert_admin', 'monitor_retry_event', 'monitor_redrive_dead',
        'monitor_replay_event', 'monitor_owed_handlers',
        'assert_event_operator', 'operator_begin_action', 'operator_finish_action', 'lock_event_for_operator',
        'retry_event', 'redrive_dead', 'replay_event', 'discard_event', 'sync_routes',
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

-- The application's functions that call the bus (the triggers' emit_event, checkout, the
-- escrow and payment functions, the automations' sync_routes...) resolve bus names
-- through their own pinned search_path, never the session's: feyxa joins it after public.
-- Which functions: those whose body names anything now in feyxa (a table, type or
-- function), the pattern built from the catalogue, so a bus name added to the list above
-- needs no second list here.
do $$
declare
  f record;
  moved text;
begin
  select '\m(' || string_agg(distinct name, '|') || ')\M' into moved
  from (select c.relname::text as name from pg_class c where c.relnamespace = 'feyxa'::regnamespace and c.relkind in ('r', 'p', 'v')
        union select t.typname::text from pg_type t where t.typnamespace = 'feyxa'::regnamespace and t.typtype in ('d', 'c')
        union select p.proname::text from pg_proc p where p.pronamespace = 'feyxa'::regnamespace) names;
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

-- pg_cron's jobs name their functions by text: the one 20261123000006 scheduled and those
-- docs/deploy.md has operators schedule by hand (automations-poll, the purge) call
-- call_edge_function or purge_completed_events unqualified, which the cron worker's
-- search_path no longer finds. Each such command is rewritten in place, qualified
-- (cron.alter_job keeps the job's id, name and schedule). No pg_cron: nothing to do.
do $$
begin
  if to_regclass('cron.job') is null then
    return;
  end if;
  execute $q$
    select cron.alter_job(j.jobid, command := regexp_replace(j.command,
             '(^|[^.\w])(call_edge_function|purge_completed_events)\(', '\1feyxa.\2(', 'g'))
    from cron.job j
    where j.command ~ '(^|[^.\w])(call_edge_function|purge_completed_events)\('$q$;
end;
$$;
