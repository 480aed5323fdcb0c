-- [20261123000002]
-- Calls an Edge Function through pg_net, authenticated with the service key kept in
-- Supabase Vault under the name 'feyxa_service_key'. Returns false (and does nothing)
-- where pg_net or the URL is missing. It never raises: a lost wake-up is caught by the
-- dispatcher's poll and by retry-failed-events, but a failed emit would lose the event.
create or replace function feyxa.call_edge_function(p_function text, p_body jsonb)
returns boolean
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_base text;
  v_key  text;
begin
  select functions_url into v_base from event_bus_settings;
  if v_base is null or to_regnamespace('net') is null then
    return false;
  end if;
  if to_regclass('vault.decrypted_secrets') is not null then
    execute $q$select decrypted_secret from vault.decrypted_secrets where name = 'feyxa_service_key'$q$ into v_key;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := 15000)'
    using rtrim(v_base, '/') || '/' || p_function, p_body,
          jsonb_build_object('content-type', 'application/json')
            || case when v_key is null then '{}'::jsonb
                    else jsonb_build_object('authorization', 'Bearer ' || v_key, 'apikey', v_key) end;
  return true;
exception when others then
  raise warning 'feyxa: could not call edge function %: %', p_function, sqlerrm;
  return false;
end;
$$;
comment on function feyxa.call_edge_function(text,jsonb) is 'POSTs a JSON body to an Edge Function through pg_net, with the Vault service key. False, never an error, when it cannot.';
revoke all on function feyxa.call_edge_function(text,jsonb) from public;
grant execute on function feyxa.call_edge_function(text,jsonb) to service_role;

-- [first 20261123000002]
-- The pg_net half of wake_dispatchers, on its own, for the emit functions below.
-- [20261129300006]
-- The pg_net wake-up no longer mistakes a request pg_net is sending for one still queued.
--
-- pg_net's worker takes a batch of requests by deleting them from net.http_request_queue,
-- sends them, and commits that deletion only when every response of the batch is in
-- (pg_net src/worker.c and src/core.c, consume_request_queue). Until then the taken rows
-- stay visible to every other transaction, their xmax set to the worker's. Read as "a
-- wake-up is queued", they silenced the wake-up for as long as process-event was answering:
-- an emit committed meanwhile, and the invocation's own request for another wake-up when it
-- stopped with events left (src/bus/functions/drain.ts), waited for the pg_cron sweep, up
-- to a minute. (Found by the bench's Supabase path: a burst of 2,000 events stalled after
-- the first invocation's 100.)
--
-- A request is still waiting only while no transaction is deleting it: xmax = 0. A
-- non-zero xmax can also be a deletion that rolled back; then one wake-up is skipped and the
-- sweep catches it, as a lost wake-up always was.
create or replace function feyxa.wake_dispatchers_by_http(p_event_id uuid)
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_queued boolean := false;
begin
  if coalesce(current_setting('feyxa.http_wake_sent', true), '') = 'on'
     or to_regnamespace('net') is null
     or (select functions_url from event_bus_settings) is null then
    return;
  end if;
  perform set_config('feyxa.http_wake_sent', 'on', true);
  begin
    execute $q$select exists (select 1 from net.http_request_queue where url like '%/process-event' and xmax = '0'::xid)$q$ into v_queued;
  exception when others then
    v_queued := false;  -- another pg_net version without that table: just send
  end;
  if not v_queued then
    perform call_edge_function('process-event', jsonb_build_object('event_id', p_event_id, 'drain', true));
  end if;
end;
$$;
comment on function feyxa.wake_dispatchers_by_http(uuid) is 'The coalesced pg_net wake-up of process-event (at most one per transaction, none while one waits in pg_net''s queue untaken); no NOTIFY.';
revoke all on function feyxa.wake_dispatchers_by_http(uuid) from public;
grant execute on function feyxa.wake_dispatchers_by_http(uuid) to service_role;

-- [20261123000002]
-- An immediate NOTIFY plus the coalesced pg_net wake-up. Used by the monitor's actions
-- (retry, redrive, replay), a handful of calls, not the emit path.
create or replace function feyxa.wake_dispatchers(p_event_id uuid)
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  perform pg_notify('feyxa_events', p_event_id::text);
  perform wake_dispatchers_by_http(p_event_id);
end;
$$;
comment on function feyxa.wake_dispatchers(uuid) is 'NOTIFY feyxa_events with the event id now, plus a coalesced pg_net wake-up of process-event where configured.';
revoke all on function feyxa.wake_dispatchers(uuid) from public;
grant execute on function feyxa.wake_dispatchers(uuid) to service_role;

-- [20261123000002]
-- Fires at commit (a deferred constraint trigger) for each event the transaction inserted;
-- only the first call of a transaction does anything. See the contract above.
-- The key (1717924472, 1) is the bus's own advisory lock key for its wake-up.
create or replace function feyxa.notify_events_on_commit()
returns trigger
language plpgsql
set search_path = pg_catalog
as $$
begin
  if current_setting('feyxa.commit_wake', true) = 'done' then
    return null;
  end if;
  perform set_config('feyxa.commit_wake', 'done', true);
  if pg_try_advisory_xact_lock(1717924472, 1) then
    perform pg_notify('feyxa_events', new.id::text);
  end if;
  return null;
end;
$$;
comment on function feyxa.notify_events_on_commit() is 'Deferred trigger: at commit, NOTIFY feyxa_events once per transaction with its first new event id, unless another notifying commit holds the wake key at that moment (coalesced).';
revoke all on function feyxa.notify_events_on_commit() from public;
grant execute on function feyxa.notify_events_on_commit() to service_role;

-- [20261123000002]
create constraint trigger events_log_wake_on_commit after insert on feyxa.events_log deferrable initially deferred for each row execute function feyxa.notify_events_on_commit();
