-- Alerts: rules kept in the database, evaluated every minute by the scheduler (pg_cron on
-- Supabase, cron.sql; npm start's scheduler locally, src/local/start.ts). A rule fires once,
-- then again only after its repeat interval while it lasts, and once when it resolves. Each
-- notice is a row (alert_notices, the monitor's banner) and an event of the bus,
-- `alert.firing`, `alert.repeat` or `alert.resolved` (payloads: src/bus/bus-events.ts): the
-- channels are subscriptions to `alert.*`, so a remote subscription is a signed Standard
-- Webhooks delivery with the bus's retries (operational webhooks), and an application's
-- handler may mail it (the marketplace's operations.send_alert_email). Operators manage the
-- rules from the monitor (src/bus/functions/monitor/alerts.ts), as themselves under the
-- policies of reads.sql; a tenant's readers read its rules. docs/observability.md.
--
-- Rule kinds, each over its window, per tenant where the data has one:
--   dead_letters      events of a type (or any) gone dead within the window, over N
--   lag               the oldest due, unclaimed event of a type (or any) due for more than T seconds
--   failure_rate      a route's (handler's) failed runs over P % of those that ran in the window
--                     (the handler log has no tenant: per route only)
--   endpoint_failing  a remote route's deliveries all failing for more than D hours since its
--                     last success: the route is then deactivated, as Svix disables an endpoint,
--                     with a `disabled` notice (and `alert.disabled`) of its own; an operator
--                     turns it on again, and its first success resolves the rule
--
-- A rule's value is read from the queue (open events only), a window of the handler log
-- (its BRIN index) or the endpoint's deliveries (an index of their own), never from a scan.

create table feyxa.alert_rules (
  id uuid default gen_random_uuid() primary key,
  name text not null check (length(name) between 1 and 200),
  -- null: the whole bus
  tenant_id uuid,
  kind text not null check (kind in ('dead_letters', 'lag', 'failure_rate', 'endpoint_failing')),
  -- dead_letters, lag: the event type watched (null: any)
  event_type text,
  -- failure_rate, endpoint_failing: the route's handler name
  handler_name text,
  -- N dead letters, T seconds of lag, P percent, D hours
  threshold double precision not null check (threshold >= 0),
  window_length interval default interval '15 minutes' not null check (window_length > interval '0'),
  repeat_interval interval default interval '4 hours' not null check (repeat_interval >= interval '0'),
  is_active boolean default true not null,
  created_at timestamptz default now() not null,
  -- a route's kinds name a handler, and only they do; they watch no event type nor tenant
  constraint alert_rules_check check ((kind in ('failure_rate', 'endpoint_failing')) = (handler_name is not null)),
  constraint alert_rules_check1 check (kind not in ('failure_rate', 'endpoint_failing') or (event_type is null and tenant_id is null)),
  -- a failure rate is a percentage
  constraint alert_rules_check2 check (kind <> 'failure_rate' or threshold <= 100)
);
alter table feyxa.alert_rules enable row level security;
comment on table feyxa.alert_rules is 'Alert rules: dead letters of a type over N in a window, lag over T seconds, a route''s failure rate over P %, a remote route failing for D hours. Evaluated by evaluate_alerts.';
grant all on table feyxa.alert_rules to service_role;
grant insert, select, update, delete on table feyxa.alert_rules to authenticated;

-- Each rule's state: whether it fires, since when, when it last notified.
create table feyxa.alert_states (
  rule_id uuid primary key references feyxa.alert_rules(id) on delete cascade,
  firing boolean default false not null,
  value double precision,
  since timestamptz,
  notified_at timestamptz,
  resolved_at timestamptz
);
alter table feyxa.alert_states enable row level security;
comment on table feyxa.alert_states is 'The state of each alert rule: firing or not, its last value, when it last notified.';
grant all on table feyxa.alert_states to service_role;
grant select on table feyxa.alert_states to authenticated;

-- What the monitor shows as a banner; each notice is also emitted as alert.<kind>.
create table feyxa.alert_notices (
  id bigint generated always as identity primary key,
  rule_id uuid not null references feyxa.alert_rules(id) on delete cascade,
  -- the rule's tenant (null on a disabled notice: an endpoint has none)
  tenant_id uuid,
  kind text not null check (kind in ('firing', 'repeat', 'resolved', 'disabled')),
  value double precision,
  message text not null,
  created_at timestamptz default now() not null
);
alter table feyxa.alert_notices enable row level security;
comment on table feyxa.alert_notices is 'Notices of alert rules (firing, still firing after the repeat interval, resolved): the monitor''s banner.';
grant all on table feyxa.alert_notices to service_role;
grant select on table feyxa.alert_notices to authenticated;

create index alert_notices_created_idx on feyxa.alert_notices (created_at desc);

-- An endpoint_failing rule's value: the hours since the first failed delivery after the
-- endpoint's last success, however long ago. It keeps growing while the endpoint is off (the
-- firing rule deactivated its routes, so no delivery follows), and only a success, once an
-- operator turns the route on again, resolves the rule. A value read from a window of recent
-- deliveries would go null once the failures left the window, and resolve the rule about an
-- endpoint still off that never answered. Both ends come from webhook_deliveries_handler_idx
-- (webhooks.sql): the last success walking back from the newest delivery, the first failure
-- after it one step forward.
create or replace function feyxa.endpoint_failing_hours(p_handler_name text)
returns double precision
language sql stable
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
comment on function feyxa.endpoint_failing_hours(text) is 'Internal to alert_value: hours since the first failed delivery of a remote handler after its last successful one (however long ago); null while its last delivery succeeded, or when it has none.';
revoke all on function feyxa.endpoint_failing_hours(text) from public;
grant execute on function feyxa.endpoint_failing_hours(text) to service_role;

-- A rule's current value: read from the queue (open events only), a window of the handler
-- log (its BRIN index) or, for endpoint_failing, endpoint_failing_hours; never from a scan
-- of the log.
create or replace function feyxa.alert_value(p_rule feyxa.alert_rules)
returns double precision
language sql stable
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
comment on function feyxa.alert_value(feyxa.alert_rules) is 'Internal to evaluate_alerts: a rule''s current value (dead letters in its window, lag in seconds, or a route''s failure rate in percent); null when there is nothing to measure.';
revoke all on function feyxa.alert_value(feyxa.alert_rules) from public;
grant execute on function feyxa.alert_value(feyxa.alert_rules) to service_role;

-- An endpoint failing for D hours: its remote route is deactivated (the dispatcher stops
-- running it; its events complete without it), with a notice of its own.
create or replace function feyxa.disable_failing_endpoint(p_rule feyxa.alert_rules)
returns void
language plpgsql
set search_path = feyxa, pg_catalog
as $$
declare
  v_routes int;
  v_notice bigint;
begin
  update event_subscriptions set is_active = false, updated_at = now()
  where handler_name = p_rule.handler_name and target_kind in ('url', 'function') and is_active;
  get diagnostics v_routes = row_count;
  insert into alert_notices (rule_id, tenant_id, kind, message)
  values (p_rule.id, null, 'disabled', format('%s: %s deactivated (%s route(s)) after failing for %s hours; turn it on again in event_subscriptions once it answers',
    p_rule.name, p_rule.handler_name, v_routes, p_rule.threshold))
  returning id into v_notice;
  perform emit_event('alert.disabled', 'alert_rule', p_rule.id, null,
    jsonb_build_object('rule_id', p_rule.id, 'name', p_rule.name, 'kind', p_rule.kind, 'notice', 'disabled',
                       'handler_name', p_rule.handler_name, 'routes', v_routes, 'notice_id', v_notice),
    'alert:' || v_notice);
end;
$$;
comment on function feyxa.disable_failing_endpoint(feyxa.alert_rules) is 'Internal to evaluate_alerts: deactivates the remote routes of an endpoint_failing rule''s handler, with a disabled notice and an alert.disabled event.';
revoke all on function feyxa.disable_failing_endpoint(feyxa.alert_rules) from public;
grant execute on function feyxa.disable_failing_endpoint(feyxa.alert_rules) to service_role;

-- One evaluation of every active rule, each under its state's row lock: the notice it is due
-- (firing, repeat, resolved), written and emitted in the same transaction.
create or replace function feyxa.evaluate_alerts()
returns integer
language plpgsql
set search_path = feyxa, pg_catalog
as $$
declare
  v_rule    alert_rules;
  v_state   alert_states;
  v_value   double precision;
  v_breach  boolean;
  v_kind    text;
  v_notice  bigint;
  v_notices int := 0;
begin
  for v_rule in select * from alert_rules where is_active order by id loop
    v_value := alert_value(v_rule);
    v_breach := coalesce(v_value > v_rule.threshold, false);
    insert into alert_states (rule_id) values (v_rule.id) on conflict (rule_id) do nothing;
    select * into v_state from alert_states where rule_id = v_rule.id for update;
    v_kind := case
      when v_breach and not v_state.firing then 'firing'
      when v_breach and v_state.notified_at + v_rule.repeat_interval <= now() then 'repeat'
      when not v_breach and v_state.firing then 'resolved'
    end;
    update alert_states set
      value = v_value,
      firing = v_breach,
      since = case when v_kind = 'firing' then now() when v_breach then since end,
      notified_at = case when v_kind in ('firing', 'repeat') then now() else notified_at end,
      resolved_at = case when v_kind = 'resolved' then now() else resolved_at end
    where rule_id = v_rule.id;
    if v_kind is not null then
      insert into alert_notices (rule_id, tenant_id, kind, value, message)
      values (v_rule.id, v_rule.tenant_id, v_kind, v_value, format('%s: %s (%s %s, threshold %s)',
        v_rule.name, v_kind, v_rule.kind, round(coalesce(v_value, 0)::numeric, 2), v_rule.threshold))
      returning id into v_notice;
      -- The channels: whatever subscribes to alert.* (emit_event's first six parameters, as every caller uses them).
      perform emit_event('alert.' || v_kind, 'alert_rule', v_rule.id, v_rule.tenant_id,
        jsonb_build_object('rule_id', v_rule.id, 'name', v_rule.name, 'kind', v_rule.kind, 'notice', v_kind,
                           'value', v_value, 'threshold', v_rule.threshold, 'event_type', v_rule.event_type,
                           'handler_name', v_rule.handler_name, 'notice_id', v_notice),
        'alert:' || v_notice);
      v_notices := v_notices + 1;
      if v_rule.kind = 'endpoint_failing' and v_kind = 'firing' then
        perform disable_failing_endpoint(v_rule);
        v_notices := v_notices + 1;
      end if;
    end if;
  end loop;
  return v_notices;
end;
$$;
comment on function feyxa.evaluate_alerts() is 'Evaluates every active alert rule: a rule that starts breaching writes a firing notice, one still breaching a repeat notice once its repeat interval has passed, one that stops a resolved notice; each notice is also emitted as alert.<kind> for the channels subscribed. Returns how many notices it wrote. Run every minute by the scheduler.';
revoke all on function feyxa.evaluate_alerts() from public;
grant execute on function feyxa.evaluate_alerts() to service_role;
