-- The marketplace's facts, emitted by its tables: when a row reaches a state that other
-- engines react to, its trigger calls emit_event in the same transaction as the write.
-- No dual write: if the write rolls back, so does the event; if it commits, the event is
-- there, whoever wrote the row (a function, a webhook, a dashboard, a SQL console).
--
--   payments.status -> paid               payment.paid
--   deliveries.status -> delivered        delivery.delivered
--   deliveries.status -> confirmed        delivery.confirmed
--   a new payout, requested               payout.requested
--   a new support ticket                  ticket.created
--
-- order.created and order.cancelled are emitted by the functions that write them
-- (checkout, reserve_stock_for_order). Each of these types happens once to its aggregate,
-- so the bus keys it type:aggregate_id (the once-per-aggregate list in bus-config.sql): a
-- second emit of the same fact returns the first event.
-- The trigger functions are SECURITY DEFINER: the writer needs no right on the bus. They
-- are the server's only (revoked from public, anon and authenticated).

create or replace function public.emit_payment_paid()
returns trigger
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
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
comment on function public.emit_payment_paid() is 'Trigger: a payment that becomes paid emits payment.paid.';
revoke all on function public.emit_payment_paid() from public, anon, authenticated;

create trigger payments_emit_paid
  after insert or update of status on public.payments
  for each row execute function public.emit_payment_paid();

create or replace function public.emit_delivery_status()
returns trigger
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
as $$
begin
  if new.status in ('delivered', 'confirmed') and (tg_op = 'INSERT' or old.status is distinct from new.status) then
    perform emit_event('delivery.' || new.status, 'delivery', new.id, new.store_id,
                       jsonb_build_object('order_id', new.order_id));
  end if;
  return null;
end;
$$;
comment on function public.emit_delivery_status() is 'Trigger: a delivery that becomes delivered or confirmed emits delivery.delivered / delivery.confirmed.';
revoke all on function public.emit_delivery_status() from public, anon, authenticated;

create trigger deliveries_emit_status
  after insert or update of status on public.deliveries
  for each row execute function public.emit_delivery_status();

create or replace function public.emit_payout_requested()
returns trigger
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
as $$
begin
  perform emit_event('payout.requested', 'payout', new.id, new.store_id, jsonb_build_object(
    'amount_minor', new.amount_minor, 'currency', new.currency, 'requested_by', new.requested_by));
  return null;
end;
$$;
comment on function public.emit_payout_requested() is 'Trigger: a new payout request emits payout.requested.';
revoke all on function public.emit_payout_requested() from public, anon, authenticated;

create trigger payouts_emit_requested
  after insert on public.payouts
  for each row when (new.status = 'requested') execute function public.emit_payout_requested();

create or replace function public.emit_ticket_created()
returns trigger
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
as $$
begin
  perform emit_event('ticket.created', 'ticket', new.id, new.store_id, jsonb_build_object(
    'subject', new.subject, 'customer_email', new.customer_email, 'order_id', new.order_id));
  return null;
end;
$$;
comment on function public.emit_ticket_created() is 'Trigger: a new support ticket emits ticket.created.';
revoke all on function public.emit_ticket_created() from public, anon, authenticated;

create trigger support_tickets_emit_created
  after insert on public.support_tickets
  for each row execute function public.emit_ticket_created();
