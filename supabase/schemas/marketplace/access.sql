-- Who may read and write the marketplace through the Data API: the row-level security
-- policies of its tables (each table enables RLS where it is created).
--
-- Reads: anyone reads the catalogue (stores, products); marketplace admins read every row;
-- a store's owner and staff read their store's rows; a signed-in buyer reads their own
-- orders, those orders' items and their own notifications. Writes: store owners write
-- their store's automations, and nothing else is written through the API: the server
-- (service_role, which bypasses RLS) and the SECURITY DEFINER functions the handlers call
-- write the rest.
--
-- Grants match the policies. Supabase's default privileges grant anon and authenticated
-- ALL on every new table, sequence and function of public; RLS stops their INSERT, UPDATE
-- and DELETE where no policy allows one, but not TRUNCATE, and TRIGGER and REFERENCES are
-- not row-level at all. So each table, in its own file, revokes everything from anon and
-- authenticated and grants back only what a policy here serves (select; all four writes on
-- automations), and each function is revoked from the roles that need not call it
-- (tests/security/advisor.test.ts and api-surface.test.ts hold us to it).
--
-- Per query, not per row: the policies wrap auth.uid() and is_marketplace_admin() in a
-- scalar sub-select and match a store's rows with `store_id in (select my_store_ids())`,
-- so the planner evaluates each once per query (an initplan), not once per row. Those
-- helpers are SECURITY DEFINER (stores.sql), so asking them neither needs the caller to
-- read store_members and marketplace_admins nor makes those tables' policies recurse.

-- The catalogue, and who acts for a store: a member sees their stores' other members.
create policy stores_read on public.stores for select to anon, authenticated
  using (true);
create policy store_members_read on public.store_members for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_marketplace_admin()) or public.is_store_member(store_id));
create policy marketplace_admins_read on public.marketplace_admins for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_marketplace_admin()));
create policy products_read on public.products for select to anon, authenticated
  using (true);

-- A buyer's own orders, and the items of every order the reader may see (the sub-select
-- on orders goes through orders' policies).
create policy orders_customer_read on public.orders for select to authenticated
  using (customer_id = (select auth.uid()));
create policy order_items_read on public.order_items for select to authenticated
  using (exists (select 1 from public.orders o where o.id = order_items.order_id));
create policy notifications_own_read on public.notifications for select to authenticated
  using (user_id = (select auth.uid()));

-- A store's rows: its owner and staff, and marketplace admins.
create policy orders_staff_read on public.orders for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy payments_staff_read on public.payments for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy deliveries_staff_read on public.deliveries for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy escrows_staff_read on public.escrows for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy store_ledger_staff_read on public.store_ledger for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy payouts_staff_read on public.payouts for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy support_tickets_staff_read on public.support_tickets for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy audit_log_staff_read on public.audit_log for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy email_outbox_staff_read on public.email_outbox for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy order_attributions_staff_read on public.order_attributions for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy store_daily_metrics_staff_read on public.store_daily_metrics for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy notifications_staff_read on public.notifications for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy automations_read on public.automations for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));
create policy automation_runs_read on public.automation_runs for select to authenticated
  using ((select public.is_marketplace_admin()) or store_id in (select public.my_store_ids()));

-- A store's owners (not its staff) write its automations, in their own name.
create policy automations_owner_write on public.automations for all to authenticated
  using (exists (select 1 from public.store_members m
                 where m.store_id = automations.store_id and m.user_id = (select auth.uid()) and m.role = 'owner'))
  with check (exists (select 1 from public.store_members m
                      where m.store_id = automations.store_id and m.user_id = (select auth.uid()) and m.role = 'owner')
              and created_by = (select auth.uid()));
