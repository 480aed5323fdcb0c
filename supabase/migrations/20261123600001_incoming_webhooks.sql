-- Incoming webhooks, processed once (seed 002's ProcessedEvent). A provider retries an
-- event until it gets a 2xx, sometimes days later, and may resend it by hand weeks later,
-- after the retention purge has deleted the bus event: processed_webhooks remembers every
-- provider event id for good, so the same event never acts twice.
--
-- receive_webhook does everything in one transaction: the receipt, the bus event
-- (webhook.received, keyed by the provider's event id) and the business write the
-- provider event stands for (a Stripe payment_intent.succeeded pays the order's payment,
-- whose trigger emits payment.paid). The function answers only once all of it is durable.

create table if not exists processed_webhooks (
  source            text not null check (source ~ '^[a-z][a-z0-9_-]{0,39}$'),
  provider_event_id text not null check (length(provider_event_id) between 1 and 200),
  provider_type     text not null check (length(provider_type) between 1 and 200),
  event_id          uuid,
  -- What the business write did: paid, already_paid, no_order, amount_mismatch, ... or none.
  effect            text not null default 'none',
  received_at       timestamptz not null default now(),
  primary key (source, provider_event_id)
);
comment on table processed_webhooks is
  'Every provider event accepted by the webhooks function, kept for good (never purged), so a provider retrying it changes nothing.';
alter table processed_webhooks enable row level security;
revoke all on processed_webhooks from anon, authenticated;
grant select on processed_webhooks to service_role;

-- Stripe's payment_intent.succeeded: the order named by metadata.order_id is paid, if the
-- amount and currency are the order's. The payment row is locked, so two deliveries of
-- two different Stripe events for one intent still pay it once.
create or replace function apply_stripe_payment_succeeded(p_intent jsonb)
returns text
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_order_text text := p_intent -> 'metadata' ->> 'order_id';
  v_payment payments;
  v_amount text := coalesce(p_intent ->> 'amount_received', p_intent ->> 'amount');
begin
  if v_order_text is null or v_order_text !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return 'no_order';
  end if;
  select * into v_payment from payments where order_id = v_order_text::uuid for update;
  if not found then return 'no_payment'; end if;
  if v_payment.status = 'paid' then return 'already_paid'; end if;
  if v_payment.status not in ('pending', 'failed') then return 'not_payable'; end if;
  if v_amount is null or v_amount !~ '^[0-9]{1,18}$' or v_amount::bigint <> v_payment.amount_minor
     or upper(coalesce(p_intent ->> 'currency', '')) <> v_payment.currency then
    return 'amount_mismatch';
  end if;
  -- The status change fires payments_emit_paid: payment.paid, in this transaction.
  update payments set status = 'paid', provider = 'stripe', provider_ref = left(p_intent ->> 'id', 200),
                      paid_at = coalesce(paid_at, now())
  where id = v_payment.id;
  return 'paid';
end;
$$;
comment on function apply_stripe_payment_succeeded(jsonb) is
  'Stripe payment_intent.succeeded: marks the payment of metadata.order_id paid (provider stripe, provider_ref the intent id) when amount and currency match; the trigger emits payment.paid. Returns paid, already_paid, no_order, no_payment, not_payable or amount_mismatch.';

create or replace function receive_webhook(p_source text, p_provider_event_id text, p_provider_type text, p_data jsonb)
returns table (event_id uuid, duplicate boolean, effect text)
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_key text := p_source || ':' || p_provider_event_id;
begin
  -- A concurrent delivery of the same event waits here for the first to commit, then
  -- finds its row: a duplicate.
  insert into processed_webhooks (source, provider_event_id, provider_type)
  values (p_source, p_provider_event_id, p_provider_type)
  on conflict on constraint processed_webhooks_pkey do nothing;
  if not found then
    return query select w.event_id, true, w.effect from processed_webhooks w
                 where w.source = p_source and w.provider_event_id = p_provider_event_id;
    return;
  end if;
  event_id := emit_event('webhook.received', 'webhook', md5(v_key)::uuid, null,
    jsonb_build_object('source', p_source, 'provider_event_id', p_provider_event_id,
                       'provider_type', p_provider_type, 'data', coalesce(p_data, '{}'::jsonb)),
    'webhook:' || v_key);
  effect := case
    when p_source = 'stripe' and p_provider_type = 'payment_intent.succeeded'
      then apply_stripe_payment_succeeded(p_data -> 'object')
    else 'none' end;
  update processed_webhooks w set event_id = receive_webhook.event_id, effect = receive_webhook.effect
  where w.source = p_source and w.provider_event_id = p_provider_event_id;
  duplicate := false;
  return next;
end;
$$;
comment on function receive_webhook(text, text, text, jsonb) is
  'Accepts a verified provider event once: records it, emits webhook.received keyed by the provider event id, and applies its business write, in one transaction. A repeat returns the first event id with duplicate = true and does nothing.';

revoke all on function apply_stripe_payment_succeeded(jsonb), receive_webhook(text, text, text, jsonb) from public, anon, authenticated;
grant execute on function receive_webhook(text, text, text, jsonb) to service_role;
