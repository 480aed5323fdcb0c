-- The marketplace's configuration of the bus: its answers to the bus's hooks, the event
-- types it emits once per aggregate, and the routes its handlers started with.
--
-- The bus knows nothing of stores. It asks the application through hooks, functions it
-- defines with a default body (bus/reads.sql, bus/webhooks.sql) and that the application
-- replaces here, same signature:
--
--   reader_is_operator()        who operates the whole bus: a marketplace admin
--   reader_tenants()            whose events the caller reads: the stores they own or staff
--   reader_tenant_labels()      the tenants the monitor offers to filter by: stores, by name
--   tenant_label(uuid)          a tenant's name in the monitor: the store's
--   webhook_effect(...)         what a verified provider event does: a Stripe payment pays
--   story_seeds(term)           what a story search names: an order (number or id), its payments, deliveries
--
-- The tenant key of the marketplace's events (events_log.tenant_id) is the store. The
-- read hooks are called once per query, never per row: the bus's policies wrap them in a
-- scalar sub-select, which the planner runs once as an initplan (the monitor reads
-- millions of rows through these policies), and the tenant list then meets the tenant
-- index as = any(). Their grants restate the bus's: authenticated and service_role.

-- SECURITY DEFINER, so the answer does not itself go through marketplace_admins' RLS.
create or replace function feyxa.reader_is_operator()
returns boolean
language sql stable security definer
set search_path = public, pg_catalog
as $$ select public.is_marketplace_admin() $$;
comment on function feyxa.reader_is_operator() is 'Read-policy hook, the marketplace''s answer: true for a marketplace admin (public.is_marketplace_admin()).';
revoke all on function feyxa.reader_is_operator() from public, anon, authenticated;
grant execute on function feyxa.reader_is_operator() to authenticated, service_role;

-- SECURITY DEFINER, so the answer does not itself go through store_members' RLS.
create or replace function feyxa.reader_tenants()
returns uuid[]
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select coalesce(array_agg(m.store_id), '{}') from public.store_members m where m.user_id = (select auth.uid())
$$;
comment on function feyxa.reader_tenants() is 'Read-policy hook, the marketplace''s answer: the stores the current request''s user owns or staffs.';
revoke all on function feyxa.reader_tenants() from public, anon, authenticated;
grant execute on function feyxa.reader_tenants() to authenticated, service_role;

-- A tenant is a store, shown by its name; an operator may filter by every store, anyone
-- else by the stores they own or staff. Not SECURITY DEFINER: store names are public (the
-- catalogue, stores_read), and who the caller is comes from the two hooks above.
create or replace function feyxa.reader_tenant_labels()
returns table (id uuid, name text, slug text)
language sql stable
set search_path = pg_catalog
as $$
  select s.id, s.name, s.slug from public.stores s
  where (select feyxa.reader_is_operator()) or s.id = any ((select feyxa.reader_tenants())::uuid[])
  order by s.name
  limit 500
$$;
comment on function feyxa.reader_tenant_labels() is 'Read hook, the marketplace''s answer: the stores the caller may filter the monitor by (every store for an admin, their own for an owner or staff), by name.';
revoke all on function feyxa.reader_tenant_labels() from public, anon, authenticated;
grant execute on function feyxa.reader_tenant_labels() to authenticated, service_role;

create or replace function feyxa.tenant_label(p_tenant uuid)
returns text
language sql stable
set search_path = pg_catalog
as $$
  select s.name from public.stores s where s.id = p_tenant
$$;
comment on function feyxa.tenant_label(uuid) is 'Read hook, the marketplace''s answer: a store''s name.';
revoke all on function feyxa.tenant_label(uuid) from public, anon, authenticated;
grant execute on function feyxa.tenant_label(uuid) to authenticated, service_role;

-- The bus's webhook inbox records a verified provider event once and emits
-- webhook.received (receive_webhook, bus/webhooks.sql); what the event does besides, in
-- the same transaction, is this answer: a Stripe payment_intent.succeeded marks the
-- order's payment paid (apply_stripe_payment_succeeded, money.sql), whose trigger then
-- emits payment.paid. Not SECURITY DEFINER: receive_webhook, which runs it, is, and so is
-- apply_stripe_payment_succeeded. The server's only.
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
revoke all on function feyxa.webhook_effect(text,text,jsonb) from public, anon, authenticated;

-- A story search in the marketplace's words: an order, by its number (FX-...) or its id,
-- names its own events and those of its payments and deliveries (which name the order in
-- their payload: events_log_order_ref_idx). As the caller: orders and the log answer under
-- their RLS, so a store's staff find their store's orders only.
create or replace function feyxa.story_seeds(p_term text)
returns setof uuid
language sql stable
set search_path = pg_catalog
as $$
  with the_order as (
    select o.id from public.orders o
    where o.order_number = p_term
       or o.id = case when p_term ~ '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$' then p_term::uuid end
    limit 1
  )
  select e.id from feyxa.events_log e, the_order o where e.aggregate_id = o.id
  union
  select e.id from feyxa.events_log e, the_order o
  where (e.payload::jsonb ->> 'order_id') = o.id::text and e.aggregate_type::text in ('payment', 'delivery')
$$;
comment on function feyxa.story_seeds(text) is 'Story hook, the marketplace''s answer: an order''s number or id names the events of the order, its payments and its deliveries.';
revoke all on function feyxa.story_seeds(text) from public, anon, authenticated;
grant execute on function feyxa.story_seeds(text) to authenticated, service_role;

-- The marketplace's once-per-aggregate event types: each is a fact that happens once to its
-- aggregate, so an emit without a key is keyed type:aggregate_id (bus/emit.sql) and a
-- second emit of it returns the first event. The bus's own list is empty; this is the
-- marketplace's whole list.
update feyxa.event_bus_settings
set once_per_aggregate = array[
  'delivery.confirmed', 'delivery.delivered', 'order.cancelled', 'order.created',
  'payment.paid', 'payout.requested', 'ticket.created'
];

-- The routes of the marketplace's handlers as its first release wrote them, so a new
-- database routes its events before the code's first sync. The code declares every route
-- (each handler's events, in src/marketplace/engines/<engine>.ts), and its sync
-- (sync_routes under the source 'marketplace', at `npm start` and on a function's first
-- call) owns these rows: it adds what is missing and retires what the code stops declaring.
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
