-- Who may touch the bus. Supabase grants EXECUTE on new public functions, and table
-- privileges, to anon and authenticated by default, which would let any visitor call
-- emit_event or claim_events through the REST API. The bus is server-side: its state
-- transitions are callable by the service role (and the table owner) only, and its
-- tables have RLS on, so the API roles see only what a policy grants them.
do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('emit_event', 'emit_event_report', 'emit_events', 'wake_dispatchers', 'wake_dispatchers_by_http', 'notify_events_on_commit', 'call_edge_function',
                        'claim_events', 'claim_event', 'lease_events', 'renew_leases', 'release_events',
                        'complete_attempts', 'reap_expired_leases', 'retry_delay', 'default_idempotency_key',
                        'assert_event_input', 'assert_claim_input', 'enqueue_events', 'tidy_event_queue',
                        -- pure helpers and a trigger function: harmless, but nobody calls them through the API
                        'event_type_is_valid', 'handler_runs', 'notify_subscriptions_changed')
  loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;

alter table events_log enable row level security;
alter table event_handlers_log enable row level security;
alter table event_queue enable row level security;
alter table event_subscriptions enable row level security;
alter table event_bus_settings enable row level security;

revoke all on events_log, event_handlers_log, event_queue, event_subscriptions, event_bus_settings from anon, authenticated;
grant all on events_log, event_handlers_log, event_queue, event_subscriptions, event_bus_settings to service_role;
