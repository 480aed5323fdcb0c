-- The bus's schedules, each at the one period src/bus/schedules.ts defines (npm start's
-- scheduler runs them at the same periods; the PostgreSQL 15 tier checks these against it).
-- On Supabase, pg_cron runs them, and pg_net carries the one that calls an Edge Function:
--
--   feyxa-retry-failed-events     every 30 s: the retry-failed-events function
--                                 (src/bus/functions/retry-failed-events.ts) retries the
--                                 failed events whose time has come, takes back events whose
--                                 worker vanished, and drains pending events whose wake-up
--                                 was lost
--   feyxa-purge-completed-events  every 10 minutes: one batch of the retention purge
--                                 (retention.sql)
--   feyxa-evaluate-alerts         every minute: the alert rules (alerts.sql)
--   feyxa-fold-stats              every minute: the monitor's rollups (stats.sql), which its
--                                 stats and the health verdict's throughput trend read
--   feyxa-purge-idempotency-keys  every 10 minutes: one batch of the HTTP functions'
--                                 idempotency keys older than 24 hours (idempotency.sql)
--
-- Where pg_cron or pg_net is not available (a plain PostgreSQL), nothing is scheduled and
-- the block still succeeds: locally `npm start` runs the same jobs on timers
-- (src/local/start.ts). The marketplace's own jobs are in marketplace/cron.sql. A period
-- under a minute ('30 seconds') needs pg_cron 1.5 or later (Supabase runs 1.6).
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
    perform cron.schedule('feyxa-retry-failed-events', '30 seconds',
      $job$ select feyxa.call_edge_function('retry-failed-events', '{}'::jsonb) $job$);
    perform cron.schedule('feyxa-purge-completed-events', '*/10 * * * *', $job$ select feyxa.purge_completed_events(10000) $job$);
    perform cron.schedule('feyxa-evaluate-alerts', '* * * * *', $job$ select feyxa.evaluate_alerts() $job$);
    perform cron.schedule('feyxa-fold-stats', '* * * * *', $job$ select feyxa.fold_stats() $job$);
    perform cron.schedule('feyxa-purge-idempotency-keys', '*/10 * * * *', $job$ select feyxa.purge_idempotency_keys(10000) $job$);
  exception when others then
    raise notice 'feyxa: could not schedule the bus''s jobs (%); schedule them by hand', sqlerrm;
  end;
end;
$outer$;
