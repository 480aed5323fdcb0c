-- One period per schedule, defined once (src/bus/schedules.ts) for pg_cron and npm start's
-- scheduler alike: retry-failed-events runs every 30 s, as npm start runs it, instead of
-- every minute. The other jobs keep theirs (alerts and the automations poller every minute,
-- the purge every 10 minutes). cron.schedule with an existing job's name updates that job.
-- Only where pg_cron and pg_net are installed (where the job was scheduled); a pg_cron
-- older than 1.5, which knows no '30 seconds', leaves a notice and the job as it was.
do $outer$
begin
  if to_regnamespace('cron') is not null and to_regnamespace('net') is not null then
    perform cron.schedule('feyxa-retry-failed-events', '30 seconds',
      $job$ select feyxa.call_edge_function('retry-failed-events', '{}'::jsonb) $job$);
  end if;
exception when others then
  raise notice 'feyxa: could not reschedule retry-failed-events (%); schedule it by hand', sqlerrm;
end;
$outer$;
