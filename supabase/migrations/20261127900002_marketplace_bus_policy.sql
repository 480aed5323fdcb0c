-- The marketplace's answer to the bus's read-policy hooks (20261127900001): marketplace
-- admins operate the whole bus; store owners and staff read their stores' events (the
-- tenant key is the store). Security definer, so the answer does not itself go through
-- store_members' and marketplace_admins' RLS once per query.
create or replace function feyxa.reader_is_operator()
returns boolean
language sql stable
security definer
set search_path = public, pg_catalog
as $$ select public.is_marketplace_admin() $$;
comment on function feyxa.reader_is_operator() is
  'Read-policy hook, the marketplace''s answer: true for a marketplace admin (public.is_marketplace_admin()).';

create or replace function feyxa.reader_tenants()
returns uuid[]
language sql stable
security definer
set search_path = public, pg_catalog
as $$
  select coalesce(array_agg(m.store_id), '{}') from public.store_members m where m.user_id = (select auth.uid())
$$;
comment on function feyxa.reader_tenants() is
  'Read-policy hook, the marketplace''s answer: the stores the current request''s user owns or staffs.';
