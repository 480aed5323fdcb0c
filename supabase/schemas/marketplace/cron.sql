-- The marketplace's schedule. On Supabase, pg_cron runs the automations poller (the
-- automations-poll Edge Function, src/marketplace/functions/automations-poll.ts) every
-- minute, through the bus's call_edge_function (pg_net); `npm start`'s scheduler polls at
-- the same period, defined once in src/marketplace/settings.ts (MARKETPLACE_SCHEDULES). The
-- bus's own jobs, and the extensions where they are available, are in bus/cron.sql.
-- Where pg_cron is not installed (a plain PostgreSQL) nothing is scheduled here, and a
-- failure to schedule is a notice, never a failed deployment: docs/deploy.md shows the job
-- to schedule by hand.
do $outer$
begin
  if to_regnamespace('cron') is not null then
    perform cron.schedule('feyxa-automations-poll', '* * * * *', $job$ select feyxa.call_edge_function('automations-poll', '{}'::jsonb) $job$);
  end if;
exception when others then
  raise notice 'feyxa: could not schedule the automations poller (%)', sqlerrm;
end;
$outer$;
