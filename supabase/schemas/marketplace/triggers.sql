-- [20261123100006]
-- Emitting without dual writes: when a row reaches a status that other engines react to,
-- its trigger calls emit_event in the same transaction as the write. If the write rolls
-- back, so does the event; if it commits, the event is there, whoever wrote the row
-- (a function, a dashboard, a SQL console).
-- The trigger functions are SECURITY DEFINER: the writer needs no right on the bus.
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
revoke all on function public.emit_payment_paid() from anon, authenticated, public;

-- [20261123100006]
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
revoke all on function public.emit_delivery_status() from anon, authenticated, public;

-- [20261123100006]
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
revoke all on function public.emit_payout_requested() from anon, authenticated, public;

-- [20261123100006]
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
revoke all on function public.emit_ticket_created() from anon, authenticated, public;

-- [20261123100006]
create trigger payments_emit_paid after insert or update of status on public.payments for each row execute function public.emit_payment_paid();

-- [20261123100006]
create trigger deliveries_emit_status after insert or update of status on public.deliveries for each row execute function public.emit_delivery_status();

-- [20261123100006]
create trigger payouts_emit_requested after insert on public.payouts for each row when (new.status = 'requested'::text) execute function public.emit_payout_requested();

-- [20261123100006]
create trigger support_tickets_emit_created after insert on public.support_tickets for each row execute function public.emit_ticket_created();
