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
language plpgsql
security definer
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
comment on function feyxa.wake_dispatchers_by_http(uuid) is
  'The coalesced pg_net wake-up of process-event (at most one per transaction, none while one waits in pg_net''s queue untaken); no NOTIFY.';
