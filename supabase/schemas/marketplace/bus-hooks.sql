-- [first 20261127900001]
-- The read-policy hooks: who reads which events. The bus asks, the application answers by
-- replacing these two bodies (same signatures) in its own migration. Until then they
-- deny: a bus without an application shows its events to the server roles only.
-- Both are called once per query, never per row: the policies wrap them in a scalar
-- sub-select, which the planner runs once as an initplan (the monitor reads millions of
-- rows through these policies), and a tenant list then meets the store index as = any().
-- [20261127900002]
-- The marketplace's answer to the bus's read-policy hooks (20261127900001): marketplace
-- admins operate the whole bus; store owners and staff read their stores' events (the
-- tenant key is the store). Security definer, so the answer does not itself go through
-- store_members' and marketplace_admins' RLS once per query.
create or replace function feyxa.reader_is_operator()
returns boolean
language sql stable security definer
set search_path = public, pg_catalog
as $$ select public.is_marketplace_admin() $$;
comment on function feyxa.reader_is_operator() is 'Read-policy hook, the marketplace''s answer: true for a marketplace admin (public.is_marketplace_admin()).';
revoke all on function feyxa.reader_is_operator() from public;
grant execute on function feyxa.reader_is_operator() to authenticated, service_role;

-- [20261127900002]
create or replace function feyxa.reader_tenants()
returns uuid[]
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select coalesce(array_agg(m.store_id), '{}') from public.store_members m where m.user_id = (select auth.uid())
$$;
comment on function feyxa.reader_tenants() is 'Read-policy hook, the marketplace''s answer: the stores the current request''s user owns or staffs.';
revoke all on function feyxa.reader_tenants() from public;
grant execute on function feyxa.reader_tenants() to authenticated, service_role;

-- [first 20261127920000]
-- The monitor names tenants without knowing what a tenant is. Two more read hooks, in the
-- manner of reader_is_operator and reader_tenants (…900001): the tenants the caller may
-- filter by, with a label, and one tenant's label. The bus's bodies give the caller's
-- tenant keys unlabelled; the application replaces them (the marketplace: its stores).
-- [20261127920001]
-- The marketplace's answer to the monitor's tenant hooks (…920000): a tenant is a store,
-- shown by its name; an operator (a marketplace admin) may filter by every store, anyone
-- else by the stores they own or staff. Store names are public (the catalogue).
create or replace function feyxa.reader_tenant_labels()
returns table(id uuid, name text, slug text)
language sql stable
set search_path = pg_catalog
as $$
  select s.id, s.name, s.slug from public.stores s
  where (select feyxa.reader_is_operator()) or s.id = any ((select feyxa.reader_tenants())::uuid[])
  order by s.name
  limit 500
$$;
comment on function feyxa.reader_tenant_labels() is 'Read hook, the marketplace''s answer: the stores the caller may filter the monitor by (every store for an admin, their own for an owner or staff), by name.';
revoke all on function feyxa.reader_tenant_labels() from public;
grant execute on function feyxa.reader_tenant_labels() to authenticated, service_role;

-- [20261127920001]
create or replace function feyxa.tenant_label(p_tenant uuid)
returns text
language sql stable
set search_path = pg_catalog
as $$
  select s.name from public.stores s where s.id = p_tenant
$$;
comment on function feyxa.tenant_label(uuid) is 'Read hook, the marketplace''s answer: a store''s name.';
revoke all on function feyxa.tenant_label(uuid) from public;
grant execute on function feyxa.tenant_label(uuid) to authenticated, service_role;

-- [first 20261127910000]
-- The bus's webhook inbox knows no provider's business. receive_webhook records a verified
-- provider event once and emits webhook.received; what the event does besides, in the same
-- transaction (a Stripe payment marking an order paid), is the application's answer to
-- feyxa.webhook_effect, a hook in the manner of the read-policy hooks (…900001): the bus
-- defines it to do nothing, and the application replaces its body in a migration of its own.
-- [20261127910001]
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
comment on function feyxa.webhook_effect(text,text,jsonb) is 'The marketplace''s webhook effects: Stripe payment_intent.succeeded → apply_stripe_payment_succeeded (paid, already_paid, no_order, no_payment, not_payable, amount_mismatch); anything else none.';
revoke all on function feyxa.webhook_effect(text,text,jsonb) from public;

-- The marketplace's once-per-aggregate event types: each is a fact that happens once to its
-- aggregate, so an emit without a key is keyed type:aggregate_id.
update feyxa.event_bus_settings
set once_per_aggregate = array[
  'delivery.confirmed', 'delivery.delivered', 'order.cancelled', 'order.created',
  'payment.paid', 'payout.requested', 'ticket.created'
];

-- The routes the marketplace's first release wrote. Its code declares every route since
-- (src/marketplace/engines: syncRoutes keeps them), and these are among them.
insert into feyxa.event_subscriptions (event_pattern, handler_name, managed_by) values
  ('order.created',      'fintech.create_escrow', 'marketplace'),
  ('order.created',      'commerce.decrement_stock', 'marketplace'),
  ('order.created',      'commerce.send_confirmation_email', 'marketplace'),
  ('order.created',      'commerce.create_notification', 'marketplace'),
  ('order.created',      'intelligence.attribute_conversion', 'marketplace'),
  ('order.*',            'intelligence.update_daily_metrics', 'marketplace'),
  ('payment.*',          'intelligence.update_daily_metrics', 'marketplace'),
  ('payment.paid',       'fintech.update_payment_status', 'marketplace'),
  ('payment.paid',       'commerce.update_order_status', 'marketplace'),
  ('delivery.delivered', 'logistics.mark_delivered', 'marketplace'),
  ('delivery.delivered', 'fintech.release_escrow', 'marketplace'),
  ('delivery.confirmed', 'fintech.release_escrow', 'marketplace'),
  ('delivery.confirmed', 'trust.audit_log', 'marketplace'),
  ('payout.requested',   'fintech.process_payout', 'marketplace'),
  ('payout.requested',   'trust.audit_log', 'marketplace'),
  ('ticket.created',     'trust.create_notification', 'marketplace'),
  ('ticket.created',     'trust.auto_assign', 'marketplace')
on conflict (event_pattern, handler_name) do nothing;
