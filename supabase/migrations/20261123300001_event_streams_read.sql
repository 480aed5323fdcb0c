-- The monitor shows an aggregate's stream (its timeline) to whoever may read its events:
-- a stream row is visible exactly when its event is (events_log's RLS decides).
grant select on aggregate_stream_events to authenticated;
drop policy if exists aggregate_stream_events_read on aggregate_stream_events;
create policy aggregate_stream_events_read on aggregate_stream_events for select to authenticated
  using (exists (select 1 from events_log e where e.id = event_id));
