-- An endpoint_failing alert now lasts until the endpoint answers again.
--
-- Its value was read from the deliveries of the last 2 x D hours. Once the rule fired, it
-- deactivated the endpoint's routes, so no delivery followed; 2 x D hours later the failures
-- had left that window, the value became null, and the rule sent a `resolved` notice about an
-- endpoint that was still off and had never answered. The value is now the hours since the
-- first failed delivery after the endpoint's last success, however long ago: it keeps growing
-- while the endpoint is off, and only a success (once an operator turns the route on again)
-- resolves the rule.
--
-- Both ends are read from a new index on (handler_name, created_at): the last success walking
-- back from the newest delivery (past the failures since, at most one outage's worth), the
-- first failure after it one step forward. Built without CONCURRENTLY, as a migration runs in
-- a transaction: it holds deliveries' inserts for as long as the build takes.

create index if not exists webhook_deliveries_handler_idx
  on feyxa.webhook_deliveries (handler_name, created_at) include (status_code);

create function feyxa.endpoint_failing_hours(p_handler_name text)
returns double precision
language sql
stable
security invoker
set search_path = feyxa, pg_catalog
as $$
  select extract(epoch from now() - min(d.created_at)) / 3600
  from webhook_deliveries d
  where d.handler_name = p_handler_name
    and d.created_at > coalesce((
      select s.created_at from webhook_deliveries s
      where s.handler_name = p_handler_name and s.status_code between 200 and 299
      order by s.created_at desc
      limit 1), '-infinity')
$$;
comment on function feyxa.endpoint_failing_hours(text) is
  'Internal to alert_value: hours since the first failed delivery of a remote handler after its last successful one (however long ago); null while its last delivery succeeded, or when it has none.';

-- alert_value as in 20261129300002, but for endpoint_failing, which now asks endpoint_failing_hours.
create or replace function feyxa.alert_value(p_rule feyxa.alert_rules)
returns double precision
language sql
stable
security invoker
set search_path = feyxa, pg_catalog
as $$
  select case p_rule.kind
    when 'dead_letters' then (
      select count(*)::double precision from event_queue q join events_log e on e.id = q.event_id
      where e.status = 'dead' and e.processed_at >= now() - p_rule.window_length
        and (p_rule.event_type is null or e.event_type = p_rule.event_type)
        and (p_rule.tenant_id is null or e.tenant_id = p_rule.tenant_id))
    when 'lag' then (
      select extract(epoch from now() - min(coalesce(q.not_before, q.due_at)))::double precision
      from event_queue q join events_log e on e.id = q.event_id
      where q.locked_by is null and q.due_at <= now() and (q.not_before is null or q.not_before <= now())
        and (p_rule.event_type is null or e.event_type = p_rule.event_type)
        and (p_rule.tenant_id is null or e.tenant_id = p_rule.tenant_id))
    when 'failure_rate' then (
      select 100.0 * count(*) filter (where h.status = 'failed') / nullif(count(*), 0)
      from event_handlers_log h
      where h.handler_name = p_rule.handler_name and h.status in ('success', 'failed')
        and h.created_at >= now() - p_rule.window_length)
    when 'endpoint_failing' then endpoint_failing_hours(p_rule.handler_name)
  end
$$;

revoke all on function feyxa.endpoint_failing_hours(text) from public, anon, authenticated;
grant execute on function feyxa.endpoint_failing_hours(text) to service_role;
