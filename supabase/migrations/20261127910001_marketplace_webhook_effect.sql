-- The marketplace's answer to the bus's webhook hook (…910000): a Stripe
-- payment_intent.succeeded marks the order's payment paid, in the transaction that records
-- the webhook (its trigger then emits payment.paid).

create or replace function feyxa.webhook_effect(p_source text, p_provider_type text, p_data jsonb)
returns text
language plpgsql
set search_path = pg_catalog
as $$
begin
  if p_source = 'stripe' and p_provider_type = 'payment_intent.succeeded' then
    return public.apply_stripe_payment_succeeded(p_data -> 'object');
  end if;
  return 'none';
end;
$$;
comment on function feyxa.webhook_effect(text, text, jsonb) is
  'The marketplace''s webhook effects: Stripe payment_intent.succeeded → apply_stripe_payment_succeeded (paid, already_paid, no_order, no_payment, not_payable, amount_mismatch); anything else none.';
