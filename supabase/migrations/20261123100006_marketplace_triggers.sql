-- Emitting without dual writes: when a row reaches a status that other engines react to,
-- its trigger calls emit_event in the same transaction as the write. If the write rolls
-- back, so does the event; if it commits, the event is there, whoever wrote the row
-- (a function, a dashboard, a SQL console).
-- The trigger functions are SECURITY DEFINER: the writer needs no right on the bus.

create or replace function emit_payment_paid()
returns trigger
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  if new.status = 'paid' and (tg_op = 'INSERT' or old.status is distinct from 'paid') then
    perform emit_event('payment.paid', 'payment', new.id, new.store_id, jsonb_build_object(
      'order_id', new.order_id, 'amount_minor', new.amount_minor, 'currency', new.currency,
      'provider', new.provider, 'provider_ref', new.provider_ref));
  end if;
  return null;
end;
$$;
comment on function emit_payment_paid() is 'Trigger: a payment that becomes paid emits payment.paid.';
drop trigger if exists payments_emit_paid on payments;
create trigger payments_emit_paid after insert or update of status on payments
  for each row execute function emit_payment_paid();

create or replace function emit_delivery_status()
returns trigger
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  if new.status in ('delivered', 'confirmed') and (tg_op = 'INSERT' or old.status is distinct from new.status) then
    perform emit_event('delivery.' || new.status, 'delivery', new.id, new.store_id,
                       jsonb_build_object('order_id', new.order_id));
  end if;
  return null;
end;
$$;
comment on function emit_delivery_status() is 'Trigger: a delivery that becomes delivered or confirmed emits delivery.delivered / delivery.confirmed.';
drop trigger if exists deliveries_emit_status on deliveries;
create trigger deliveries_emit_status after insert or update of status on deliveries
  for each row execute function emit_delivery_status();

create or replace function emit_payout_requested()
returns trigger
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  perform emit_event('payout.requested', 'payout', new.id, new.store_id, jsonb_build_object(
    'amount_minor', new.amount_minor, 'currency', new.currency, 'requested_by', new.requested_by));
  return null;
end;
$$;
comment on function emit_payout_requested() is 'Trigger: a new payout request emits payout.requested.';
drop trigger if exists payouts_emit_requested on payouts;
create trigger payouts_emit_requested after insert on payouts
  for each row when (new.status = 'requested') execute function emit_payout_requested();

create or replace function emit_ticket_created()
returns trigger
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  perform emit_event('ticket.created', 'ticket', new.id, new.store_id, jsonb_build_object(
    'subject', new.subject, 'customer_email', new.customer_email, 'order_id', new.order_id));
  return null;
end;
$$;
comment on function emit_ticket_created() is 'Trigger: a new support ticket emits ticket.created.';
drop trigger if exists support_tickets_emit_created on support_tickets;
create trigger support_tickets_emit_created after insert on support_tickets
  for each row execute function emit_ticket_created();

-- The intelligence engine listens to the whole order and payment flow (seed 000 names it
-- without handlers; these are the two an operator asks for first).
insert into event_subscriptions (event_pattern, handler_name) values
  ('order.created', 'intelligence.attribute_conversion'),
  ('order.*',       'intelligence.update_daily_metrics'),
  ('payment.*',     'intelligence.update_daily_metrics')
on conflict (event_pattern, handler_name) do nothing;

-- delivery.delivered and delivery.confirmed are once per delivery; payout.requested once per payout.
update event_bus_settings
set once_per_aggregate = array(select distinct unnest(once_per_aggregate || array['payout.requested', 'order.cancelled']) order by 1);

-- Payment and delivery events name their order only in the payload (their aggregate is the
-- payment or the delivery). order-status, anonymous and polled, finds an order's events by
-- aggregate_id or by this reference: without this index the reference was a scan of the
-- whole log per request. Partial, so only those two aggregate types pay for it on insert.
create index if not exists events_log_order_ref_idx on events_log ((payload ->> 'order_id'))
  where aggregate_type in ('payment', 'delivery');
