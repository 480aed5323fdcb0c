-- The monitor's event detail shows each remote handler run's HTTP status and the start of
-- the answer (issue 15). webhook_deliveries was the server's alone; it is now readable as
-- event_handlers_log is: a row is visible to whoever may see its event (the events_log
-- policy decides), and to nobody else. The excerpt is the first 200 characters the remote
-- answered, what the handler run's error message already carries on a failure.
grant select on feyxa.webhook_deliveries to authenticated;
drop policy if exists webhook_deliveries_read on feyxa.webhook_deliveries;
create policy webhook_deliveries_read on feyxa.webhook_deliveries for select to authenticated
  using (exists (select 1 from feyxa.events_log e where e.id = event_id));  -- deliveries of events the reader may see
comment on policy webhook_deliveries_read on feyxa.webhook_deliveries is
  'A signed-in user reads the deliveries of the events they may read (the events_log policy), as event_handlers_log.';
