-- Who may read and write the marketplace through the API (RLS on every table).
-- Reads: admins everything; store members their stores' rows; customers their own
-- orders. Writes: only through the SECURITY DEFINER functions (and the service role).
-- checkout is the one function a buyer calls directly (as anon or signed in).

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

  for f in
    select p.oid::regprocedure from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('checkout', 'create_escrow_for_order', 'record_payment_paid', 'release_escrow_for_order',
                        'process_payout', 'reserve_stock_for_order', 'advance_order_status', 'mark_delivery_delivered',
                        'confirm_delivery', 'auto_assign_ticket', 'refresh_store_daily_metrics',
                        'emit_payment_paid', 'emit_delivery_status', 'emit_payout_requested', 'emit_ticket_created')
  loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;

grant execute on function checkout(uuid, text, jsonb, text, jsonb, uuid) to anon, authenticated;

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
revoke all on function my_store_ids() from public;
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
