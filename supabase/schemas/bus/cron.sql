-- The bus's schedules. On Supabase, pg_cron runs them, and pg_net carries the one that
-- calls an Edge Function:
--
--   feyxa-retry-failed-events     every minute: the retry-failed-events function
--                                 (src/bus/functions/retry-failed-events.ts) retries the
--                                 failed events whose time has come, takes back events whose
--                                 worker vanished, and drains pending events whose wake-up
--                                 was lost
--   feyxa-purge-completed-events  every 10 minutes: one batch of the retention purge
--                                 (retention.sql)
--   feyxa-evaluate-alerts         every minute: the alert rules (alerts.sql)
--
-- Where pg_cron or pg_net is not available (a plain PostgreSQL), nothing is scheduled and
-- the block still succeeds: locally `npm start` runs the same jobs on timers
-- (src/local/start.ts). The marketplace's own jobs are in marketplace/cron.sql.
do $outer$
begin
  if not exists (select 1 from pg_available_extensions where name = 'pg_cron')
     or not exists (select 1 from pg_available_extensions where name = 'pg_net') then
    raise notice 'feyxa: pg_cron or pg_net not available; the bus''s jobs are not scheduled in the database';
    return;
  end if;
  begin
    create extension if not exists pg_net;
    create extension if not exists pg_cron;
    perform cron.schedule('feyxa-retry-failed-events', '* * * * *',
      $job$ select feyxa.call_edge_function('retry-failed-events', '{}'::jsonb) $job$);
    perform cron.schedule('feyxa-purge-completed-events', '*/10 * * * *', $job$ select feyxa.purge_completed_events(10000) $job$);
    perform cron.schedule('feyxa-evaluate-alerts', '* * * * *', $job$ select feyxa.evaluate_alerts() $job$);
  exception when others then
    raise notice 'feyxa: could not schedule the bus''s jobs (%); schedule them by hand', sqlerrm;
  end;
end;
$outer$;
