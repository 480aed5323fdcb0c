-- [20261123100000]
create policy stores_read on public.stores
  for select to anon, authenticated
  using (true);

-- [20261123100000]
create policy store_members_read on public.store_members
  for select to authenticated
  using (((user_id = ( select auth.uid() as uid)) or ( select public.is_marketplace_admin() as is_marketplace_admin) or public.is_store_member(store_id)));

-- [20261123100000]
create policy marketplace_admins_read on public.marketplace_admins
  for select to authenticated
  using (((user_id = ( select auth.uid() as uid)) or ( select public.is_marketplace_admin() as is_marketplace_admin)));

-- [20261123100007]
create policy products_read on public.products
  for select to anon, authenticated
  using (true);

create policy orders_staff_read on public.orders
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy payments_staff_read on public.payments
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy deliveries_staff_read on public.deliveries
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy escrows_staff_read on public.escrows
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy store_ledger_staff_read on public.store_ledger
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy payouts_staff_read on public.payouts
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy support_tickets_staff_read on public.support_tickets
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy audit_log_staff_read on public.audit_log
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy email_outbox_staff_read on public.email_outbox
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy order_attributions_staff_read on public.order_attributions
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy store_daily_metrics_staff_read on public.store_daily_metrics
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

create policy notifications_staff_read on public.notifications
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

-- [20261123100007]
create policy orders_customer_read on public.orders
  for select to authenticated
  using ((customer_id = ( select auth.uid() as uid)));

-- [20261123100007]
create policy order_items_read on public.order_items
  for select to authenticated
  using ((exists ( select 1
   from public.orders o
  where (o.id = order_items.order_id))));

-- [20261123100007]
create policy notifications_own_read on public.notifications
  for select to authenticated
  using ((user_id = ( select auth.uid() as uid)));

-- [20261123700000]
create policy automations_read on public.automations
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));

-- [20261123700000]
create policy automations_owner_write on public.automations
  for all to authenticated
  using ((exists ( select 1
   from public.store_members m
  where ((m.store_id = automations.store_id) and (m.user_id = ( select auth.uid() as uid)) and (m.role = 'owner'::text)))))
  with check (((exists ( select 1
   from public.store_members m
  where ((m.store_id = automations.store_id) and (m.user_id = ( select auth.uid() as uid)) and (m.role = 'owner'::text)))) and (created_by = ( select auth.uid() as uid))));

-- [20261123700000]
create policy automation_runs_read on public.automation_runs
  for select to authenticated
  using ((( select public.is_marketplace_admin() as is_marketplace_admin) or (store_id in ( select public.my_store_ids() as my_store_ids))));
