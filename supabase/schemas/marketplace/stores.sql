-- [20261123100000]
-- The marketplace's tenants: stores, who works in them, and who runs the marketplace.
-- Store membership decides what a signed-in user may read of the bus (and, later, of the
-- domain): marketplace admins read everything, a store's owner and staff read its events.
create table public.stores (
  id uuid default gen_random_uuid() primary key,
  name text not null check ((length(name) >= 1) and (length(name) <= 120)),
  slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'::text) unique,
  currency text default 'XOF' not null check (currency ~ '^[A-Z]{3}$'::text),
  created_at timestamp with time zone default now() not null
);
alter table public.stores enable row level security;
comment on table public.stores is 'A seller on the marketplace. Money of its orders is in its currency, in minor units.';
revoke all on table public.stores from anon, authenticated;
grant select on table public.stores to anon, authenticated;

-- [20261123100000]

create table public.store_members (
  store_id uuid not null references public.stores(id) on delete cascade,
  user_id uuid not null references auth.users(id) on delete cascade,
  role text not null check (role in ('owner', 'staff')),
  created_at timestamp with time zone default now() not null,
  constraint store_members_pkey primary key (store_id, user_id)
);
alter table public.store_members enable row level security;
comment on table public.store_members is 'Who may act for a store: its owner(s) and staff.';
revoke all on table public.store_members from anon, authenticated;
grant select on table public.store_members to authenticated;

-- [20261123100000]
create index store_members_user_idx on public.store_members (user_id);

-- [20261123100000]

create table public.marketplace_admins (
  user_id uuid primary key references auth.users(id) on delete cascade,
  created_at timestamp with time zone default now() not null
);
alter table public.marketplace_admins enable row level security;
comment on table public.marketplace_admins is 'Operators of the whole marketplace: they see every store''s events.';
revoke all on table public.marketplace_admins from anon, authenticated;
grant select on table public.marketplace_admins to authenticated;

-- [20261123100000]
-- SECURITY DEFINER so that policies can ask without the caller reading these tables
-- (and without policies on them recursing into each other).
create or replace function public.is_marketplace_admin()
returns boolean
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select exists (select 1 from marketplace_admins where user_id = auth.uid())
$$;
comment on function public.is_marketplace_admin() is 'True when the current request''s user (auth.uid()) is a marketplace admin.';
revoke all on function public.is_marketplace_admin() from anon, public;

-- [20261123100000]
create or replace function public.is_store_member(p_store_id uuid)
returns boolean
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select exists (select 1 from store_members where store_id = p_store_id and user_id = auth.uid())
$$;
comment on function public.is_store_member(uuid) is 'True when the current request''s user (auth.uid()) is an owner or staff member of the store.';
revoke all on function public.is_store_member(uuid) from anon, public;

-- [20261123100007]
-- "The store of this row is one of mine", evaluated once per query (initplans).
create or replace function public.my_store_ids()
returns setof uuid
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select store_id from store_members where user_id = auth.uid()
$$;
comment on function public.my_store_ids() is 'The stores the current request''s user is an owner or staff member of.';
revoke all on function public.my_store_ids() from anon, public;
