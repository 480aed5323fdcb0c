-- On Supabase, pg_cron runs the automations poller every minute (where pg_cron exists).
do $outer$
begin
  if to_regnamespace('cron') is not null then
    perform cron.schedule('feyxa-automations-poll', '* * * * *', $job$ select feyxa.call_edge_function('automations-poll', '{}'::jsonb) $job$);
  end if;
exception when others then
  raise notice 'feyxa: could not schedule the automations poller (%)', sqlerrm;
end;
$outer$;
