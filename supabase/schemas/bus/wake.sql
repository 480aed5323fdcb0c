-- Waking the dispatchers when events are emitted. Two channels, both hints: a worker that
-- misses one still finds its events by its poll (the Node dispatcher every 2 s) or by the
-- retry-failed-events sweep (every 30 s, cron.sql), so a lost wake-up delays an event and
-- never loses it; and a wake-up never fails an emit.
--
-- NOTIFY feyxa_events, for dispatchers that LISTEN (src/bus/dispatcher.ts). PostgreSQL
-- serialises the commits of transactions that NOTIFY (a global lock taken just before the
-- commit and held through its WAL flush), so notifying transactions cannot share an fsync:
-- with a NOTIFY in every emitting transaction, 16 concurrent producers committed about 4x
-- fewer events a second than without it. Hence the contract:
--   * a transaction that inserted events NOTIFYs once, at its commit (a deferred constraint
--     trigger on events_log), with the id of its first new event as the payload; a lone
--     emit always wakes the listeners;
--   * under contention the wake-ups are coalesced: the NOTIFY is sent only by a committing
--     transaction that wins pg_try_advisory_xact_lock on the bus's wake key. One that finds
--     the key taken knows another notifying commit is under way at this very moment, whose
--     wake-up makes the dispatchers claim (and, having found events, claim again), so it
--     skips its own NOTIFY and commits without queueing behind the notify lock. What slips
--     through (the other commit aborting after taking the key) is caught by the poll;
--   * the key is taken at commit, not during the emit: a long transaction that emitted
--     early does not hold it, and so does not silence everyone else's wake-ups, while it
--     does other work.
--
-- HTTP, on Supabase: a pg_net call of the process-event Edge Function, which drains what
-- is due (src/bus/functions/drain.ts). Coalesced on its own terms: at most one per
-- transaction, and none while one already waits in pg_net's queue (tests/bus/wake.test.ts).
-- Sent only where event_bus_settings.functions_url is set and pg_net is installed,
-- authenticated with the service key kept in Supabase Vault as 'feyxa_service_key'.
--
-- The monitor's actions (retry, re-drive, replay) call wake_dispatchers, which NOTIFYs at
-- once: a handful of calls, not the emit path.

-- POSTs to an Edge Function through pg_net, for the wake-ups and pg_cron's jobs (cron.sql);
-- false, doing nothing, where pg_net or functions_url is missing. It never raises: a lost
-- wake-up is caught by the poll and the sweep, but a failed emit would lose the event.
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

-- The pg_net wake-up, on its own, for the emit functions. A request is still waiting only
-- while no transaction is deleting it (xmax = 0): pg_net's worker takes a batch of requests
-- by deleting them from net.http_request_queue, sends them, and commits that deletion only
-- when every response of the batch is in (pg_net src/worker.c and src/core.c,
-- consume_request_queue); until then the taken rows stay visible to every other
-- transaction, their xmax set to the worker's. Read as queued, they would silence the
-- wake-up for as long as process-event is answering, and an emit committed meanwhile (or
-- the invocation's own request for another wake-up when it stops with events left) would
-- wait for the sweep, up to a minute: the bench's Supabase path saw a burst of 2,000 events
-- stall after the first invocation's 100. A non-zero xmax can also be a deletion that
-- rolled back; then one wake-up is skipped and the sweep catches it.
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

-- An immediate NOTIFY plus the coalesced pg_net wake-up, for the monitor's actions.
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

-- The NOTIFY of the contract above: only the first call of a transaction does anything.
-- (1717924472, 1) is the bus's own advisory lock key for its wake-up.
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

create constraint trigger events_log_wake_on_commit
  after insert on feyxa.events_log deferrable initially deferred
  for each row execute function feyxa.notify_events_on_commit();
