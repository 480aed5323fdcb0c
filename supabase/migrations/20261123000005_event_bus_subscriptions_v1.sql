-- The V1 routing of the marketplace (seed 000, step 2): which handlers react to which event.
-- A handler is named engine.handler; the dispatcher logs a clear failure for a name that
-- has no code behind it yet, and retries it, so code deployed later still gets the event.
insert into event_subscriptions (event_pattern, handler_name) values
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
  ('ticket.created',     'trust.auto_assign')
on conflict (event_pattern, handler_name) do nothing;

-- Dispatchers cache the subscriptions; tell them when they change.
create or replace function notify_subscriptions_changed()
returns trigger
language plpgsql
set search_path = public, pg_catalog
as $$
begin
  perform pg_notify('feyxa_subscriptions', '');
  return null;
end;
$$;
comment on function notify_subscriptions_changed() is
  'Trigger: NOTIFY feyxa_subscriptions so that dispatchers reload their routing cache.';

drop trigger if exists event_subscriptions_changed on event_subscriptions;
create trigger event_subscriptions_changed
  after insert or update or delete or truncate on event_subscriptions
  for each statement execute function notify_subscriptions_changed();
