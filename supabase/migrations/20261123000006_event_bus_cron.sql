-- On Supabase: pg_cron calls retry-failed-events every minute through pg_net. That job
-- retries failed events whose time has come, takes back events whose worker vanished,
-- and drains pending events whose wake-up was lost. Where pg_cron or pg_net is not
-- available (a plain local Postgres), nothing is scheduled and the migration still
-- succeeds: locally `npm start` runs the same job on a timer.
do $outer$
begin
  if not exists (select 1 from pg_available_extensions where name = 'pg_cron')
     or not exists (select 1 from pg_available_extensions where name = 'pg_net') then
    raise notice 'feyxa: pg_cron or pg_net not available; retry-failed-events is not scheduled in the database';
    return;
  end if;
  begin
    create extension if not exists pg_net;
    create extension if not exists pg_cron;
    perform cron.schedule('feyxa-retry-failed-events', '* * * * *',
      $job$ select call_edge_function('retry-failed-events', '{}'::jsonb) $job$);
  exception when others then
    raise notice 'feyxa: could not schedule retry-failed-events (%); schedule it by hand', sqlerrm;
  end;
end;
$outer$;
