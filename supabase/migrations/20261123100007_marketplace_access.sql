-- Who may read and write the marketplace through the API (RLS on every table).
-- Reads: admins everything; store members their stores' rows; customers their own
-- orders. Writes: only through the SECURITY DEFINER functions (and the service role).
-- Supabase's default privileges grant anon and authenticated ALL on each new table,
-- sequence and function of public: each is taken back here, then what a policy needs
-- is granted. (tests/security/advisor.test.ts and api-surface.test.ts hold us to it.)
--
-- checkout is not callable through the Data API: it trusts its p_customer_id, so an API
-- role calling it could order in anyone's name. Buyers check out through the checkout
-- HTTP function (src/functions/checkout.ts), which runs as the server and takes the
-- customer from the verified token, never from the request body.

do $$
declare
  t text;
  f regprocedure;
begin
  foreach t in array array['products', 'orders', 'order_items', 'payments', 'deliveries', 'stock_movements', 'escrows',
                           'store_ledger', 'payouts', 'support_agents', 'support_tickets', 'notifications', 'audit_log',
                           'email_outbox', 'order_attributions', 'store_daily_metrics']
  loop
    execute format('alter table %I enable row level security', t);
    execute format('revoke all on %I from anon, authenticated', t);
    execute format('grant all on %I to service_role', t);
  end loop;
  -- Their identity sequences (store_ledger, audit_log): nextval needs no grant for an
  -- identity column, so the API roles need none at all.
  revoke all on sequence store_ledger_id_seq, audit_log_id_seq from anon, authenticated;
  -- A view too: select only, and as the caller (security_invoker), so store_ledger's RLS
  -- decides whose balance a signed-in user reads; anon has no right on store_ledger.
  revoke all on store_balances from anon, authenticated;
  grant select on store_balances to authenticated;
  grant all on store_balances to service_role;

  for f in
    select p.oid::regprocedure from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('checkout', 'create_escrow_for_order', 'record_payment_paid', 'release_escrow_for_order',
                        'process_payout', 'reserve_stock_for_order', 'advance_order_status', 'mark_delivery_delivered',
                        'confirm_delivery', 'auto_assign_ticket', 'refresh_store_daily_metrics',
                        'emit_payment_paid', 'emit_delivery_status', 'emit_payout_requested', 'emit_ticket_created',
                        'order_created_payload')
  loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;

-- "The store of this row is one of mine", evaluated once per query (initplans).
create or replace function my_store_ids()
returns setof uuid
language sql stable
security definer
set search_path = public, pg_catalog
as $$
  select store_id from store_members where user_id = auth.uid()
$$;
comment on function my_store_ids() is 'The stores the current request''s user is an owner or staff member of.';
-- Signed-in users' policies call it; anon's policies do not (revoking from public alone
-- would leave anon the grant Supabase's default privileges gave it).
revoke all on function my_store_ids() from public, anon, authenticated;
grant execute on function my_store_ids() to authenticated, service_role;

grant select on products to anon, authenticated;
drop policy if exists products_read on products;
create policy products_read on products for select to anon, authenticated using (true);

do $$
declare
  t text;
begin
  foreach t in array array['orders', 'payments', 'deliveries', 'escrows', 'store_ledger', 'payouts', 'support_tickets',
                           'audit_log', 'email_outbox', 'order_attributions', 'store_daily_metrics', 'notifications']
  loop
    execute format('grant select on %I to authenticated', t);
    execute format('drop policy if exists %I on %I', t || '_staff_read', t);
    execute format($p$create policy %I on %I for select to authenticated
                      using ((select is_marketplace_admin()) or store_id in (select my_store_ids()))$p$, t || '_staff_read', t);
  end loop;
end;
$$;

grant select on order_items to authenticated;
drop policy if exists orders_customer_read on orders;
create policy orders_customer_read on orders for select to authenticated using (customer_id = (select auth.uid()));
drop policy if exists order_items_read on order_items;
create policy order_items_read on order_items for select to authenticated
  using (exists (select 1 from orders o where o.id = order_id));  -- the items of orders the reader may see
drop policy if exists notifications_own_read on notifications;
create policy notifications_own_read on notifications for select to authenticated using (user_id = (select auth.uid()));
