-- Routes written once, in code: a handler declares the event patterns it reacts to
-- (Handler.on, src/bus/define-handler.ts) and sync_routes writes them here, at start and
-- on a function's first call (docs/deploy.md). event_subscriptions keeps what only the
-- database can hold: the operators' toggles and rows (remote handlers, local routes they add).
--
-- managed_by names who owns a row: a source that sync_routes keeps (the marketplace's code,
-- the automations table), or null for an operator's row, which no sync ever touches.
-- A managed route its source no longer declares is RETIRED (inactive, retired_at set), not
-- deleted: the monitor and an operator still see what it was and when it stopped; declared
-- again, it comes back active.

alter table event_subscriptions
  add column if not exists managed_by text check (managed_by ~ '^[a-z][a-z0-9_]*$'),
  add column if not exists retired_at timestamptz;
comment on column event_subscriptions.managed_by is
  'The source whose sync_routes keeps this row (marketplace: the handlers'' code; automations: active automations'' triggers); null: an operator''s row, never touched by a sync.';
comment on column event_subscriptions.retired_at is
  'When its source stopped declaring this route (is_active was then set false); null while declared.';

create or replace function sync_routes(p_source text, p_routes jsonb)
returns jsonb
language plpgsql
set search_path = public, pg_catalog
as $$
declare
  v_added int;
  v_revived int;
  v_retired int;
begin
  if p_source is null or p_source !~ '^[a-z][a-z0-9_]*$' then
    raise exception 'p_source must be a lowercase word, got %', coalesce(p_source, 'null') using errcode = '22023';
  end if;
  if jsonb_typeof(p_routes) is distinct from 'array' then
    raise exception 'p_routes must be a JSON array of {event_pattern, handler_name}' using errcode = '22023';
  end if;
  -- One sync of a source at a time, to its commit: two callers (isolates, an automation
  -- saved twice at once) apply their sets one after the other, never interleaved.
  perform pg_advisory_xact_lock(hashtext('sync_routes'), hashtext(p_source));

  if exists (select 1 from jsonb_to_recordset(p_routes) d(event_pattern text, handler_name text)
             where d.event_pattern is null or d.handler_name is null) then
    raise exception 'every route needs a string event_pattern and handler_name' using errcode = '22023';
  end if;

  -- New routes start active. A pair an operator already has stays theirs (do nothing).
  insert into event_subscriptions (event_pattern, handler_name, managed_by)
  select distinct d.event_pattern, d.handler_name, p_source from jsonb_to_recordset(p_routes) d(event_pattern text, handler_name text)
  on conflict (event_pattern, handler_name) do nothing;
  get diagnostics v_added = row_count;

  -- A retired route declared again comes back: the retirement, not an operator, switched it off.
  update event_subscriptions s set is_active = true, retired_at = null, updated_at = now()
  from jsonb_to_recordset(p_routes) d(event_pattern text, handler_name text)
  where s.managed_by = p_source and s.retired_at is not null
    and s.event_pattern = d.event_pattern and s.handler_name = d.handler_name;
  get diagnostics v_revived = row_count;

  -- Routes the source no longer declares stop routing. Declared ones keep is_active as
  -- the operator left it: nothing here writes it.
  update event_subscriptions s set is_active = false, retired_at = now(), updated_at = now()
  where s.managed_by = p_source and s.retired_at is null
    and not exists (select 1 from jsonb_to_recordset(p_routes) d(event_pattern text, handler_name text)
                    where d.event_pattern = s.event_pattern and d.handler_name = s.handler_name);
  get diagnostics v_retired = row_count;

  return jsonb_build_object('added', v_added, 'revived', v_revived, 'retired', v_retired);
end;
$$;
comment on function sync_routes(text, jsonb) is
  'Makes the routes p_source manages equal to p_routes ([{event_pattern, handler_name}]): adds the missing ones (active), revives retired ones declared again, retires (is_active false, retired_at) the ones no longer declared; never writes is_active of a declared route, nor an operator''s row (managed_by null). Idempotent; returns {added, revived, retired}.';
revoke all on function sync_routes(text, jsonb) from public, anon, authenticated;
grant execute on function sync_routes(text, jsonb) to service_role;

-- The routes the migrations seeded (the V1 mapping and the intelligence handlers) were the
-- marketplace's code written a second time: from now on its code declares them, and owns them.
update event_subscriptions s set managed_by = 'marketplace'
from (values
  ('order.created',      'fintech.create_escrow'),
  ('order.created',      'commerce.decrement_stock'),
  ('order.created',      'commerce.send_confirmation_email'),
  ('order.created',      'commerce.create_notification'),
  ('payment.paid',       'fintech.update_payment_status'),
  ('payment.paid',       'commerce.update_order_status'),
  ('delivery.delivered', 'logistics.mark_delivered'),
  ('delivery.delivered', 'fintech.release_escrow'),
  ('delivery.confirmed', 'fintech.release_escrow'),
  ('delivery.confirmed', 'trust.audit_log'),
  ('payout.requested',   'fintech.process_payout'),
  ('payout.requested',   'trust.audit_log'),
  ('ticket.created',     'trust.create_notification'),
  ('ticket.created',     'trust.auto_assign'),
  ('order.created',      'intelligence.attribute_conversion'),
  ('order.*',            'intelligence.update_daily_metrics'),
  ('payment.*',          'intelligence.update_daily_metrics')
) as seeded (event_pattern, handler_name)
where s.event_pattern = seeded.event_pattern and s.handler_name = seeded.handler_name
  and s.target_kind = 'local' and s.managed_by is null;

-- Automations' routes, the same way: their source is the automations table, one route
-- (trigger pattern -> automations.run) per pattern an active automation uses. Before, the
-- trigger switched every such row back on and deleted the unused ones; now an operator's
-- toggle holds and an unused route is retired.
update event_subscriptions set managed_by = 'automations'
where handler_name = 'automations.run' and target_kind = 'local' and managed_by is null;

create or replace function sync_automation_subscriptions()
returns trigger
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  perform sync_routes('automations', coalesce(
    (select jsonb_agg(distinct jsonb_build_object('event_pattern', trigger_pattern, 'handler_name', 'automations.run'))
     from automations where is_active), '[]'));
  return null;
end;
$$;
comment on function sync_automation_subscriptions() is
  'Trigger: sync_routes(''automations'', ...): one route (pattern -> automations.run) per trigger pattern an active automation uses; unused ones retired.';
revoke all on function sync_automation_subscriptions() from public, anon, authenticated;
