-- Retention: completed events (and their handler rows) older than the
-- retention age are purged in small batches. Failed and dead events are never purged
-- automatically: they are work or evidence an operator still needs.

alter table event_bus_settings add column if not exists retention interval not null default interval '30 days';

-- Deletes up to p_batch completed events processed before now() - retention. Rows are
-- taken with SKIP LOCKED, so the purge never waits on (or blocks) a worker; each call is
-- one short transaction. Returns how many events were purged: call again while it
-- returns p_batch. Events of an event-sourced stream (20261123300000) are history and stay.
create or replace function purge_completed_events(p_batch int default 5000)
returns int
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_count int;
begin
  if p_batch is null or p_batch not between 1 and 100000 then
    raise exception using errcode = '22023', message = 'batch must be between 1 and 100000', detail = 'batch';
  end if;
  -- Oldest first by creation, through events_log_created_idx: an event completes after it
  -- is created, so every event to purge lies below the same bound on created_at. (No index
  -- on status or processed_at: it would cost every claim and completion its HOT update.)
  -- Failed and dead events that old are stepped over; there are few of them.
  with old as (
    select id from events_log e
    where e.created_at < now() - (select retention from event_bus_settings)
      and e.status = 'completed' and e.processed_at < now() - (select retention from event_bus_settings)
      and not exists (select 1 from aggregate_stream_events s where s.event_id = e.id)
    order by e.created_at
    limit p_batch
    for update skip locked
  ),
  purged as (delete from events_log e using old where e.id = old.id returning e.id),
  -- Their handler runs go with them (event_handlers_log has no cascading foreign key).
  runs as (delete from event_handlers_log h using purged where h.event_id = purged.id)
  select count(*) into v_count from purged;
  return v_count;
end;
$$;
comment on function purge_completed_events(int) is
  'Purges one bounded batch of completed events older than event_bus_settings.retention (with their handler rows). Never touches failed or dead events, nor events of an event-sourced stream.';
revoke all on function purge_completed_events(int) from public;
do $$ begin
  execute 'revoke all on function purge_completed_events(int) from anon, authenticated';
  execute 'grant execute on function purge_completed_events(int) to service_role';
end $$;

-- On Supabase, pg_cron runs the purge every ten minutes (a batch of 10,000 each time:
-- well over a million events a day). Skipped where pg_cron is not installed.
do $outer$
begin
  if to_regnamespace('cron') is not null then
    perform cron.schedule('feyxa-purge-completed-events', '*/10 * * * *', $job$ select purge_completed_events(10000) $job$);
  end if;
exception when others then
  raise notice 'feyxa: could not schedule the purge (%); schedule it by hand', sqlerrm;
end;
$outer$;
