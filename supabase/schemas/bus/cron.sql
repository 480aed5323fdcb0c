-- On Supabase, pg_cron runs the bus's schedules, calling the Edge Functions through pg_net.
-- Where pg_cron or pg_net is not available (a plain PostgreSQL), nothing is scheduled:
-- locally `npm start` runs the same jobs on timers.
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
