-- Stores: the marketplace's tenants, who acts for them, and who runs the marketplace.
--
-- A store sells in one currency and counts its money in minor units of it. Its owner(s)
-- and staff (store_members) act for it; marketplace admins operate the whole marketplace.
-- Membership is what every read rule asks: the policies of access.sql (an admin reads
-- every row, a store's owner and staff their store's rows) and the bus's read-policy hooks
-- (bus-config.sql: the same people read the store's events, the store being the tenant).
--
-- The three tables are written by the server only. Like every marketplace table, each
-- starts with no right for anon and authenticated and gets back only the reads its
-- policies allow (access.sql says why); service_role keeps what Supabase grants it.

create table public.stores (
  id          uuid primary key default gen_random_uuid(),
  name        text not null check (length(name) between 1 and 120),
  slug        text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  currency    text not null default 'XOF' check (currency ~ '^[A-Z]{3}$'),
  created_at  timestamptz not null default now()
);
alter table public.stores enable row level security;
comment on table public.stores is 'A seller on the marketplace. Money of its orders is in its currency, in minor units.';
revoke all on table public.stores from anon, authenticated;
grant select on table public.stores to anon, authenticated;

create table public.store_members (
  store_id    uuid not null references public.stores (id) on delete cascade,
  user_id     uuid not null references auth.users (id) on delete cascade,
  role        text not null check (role in ('owner', 'staff')),
  created_at  timestamptz not null default now(),
  primary key (store_id, user_id)
);
alter table public.store_members enable row level security;
comment on table public.store_members is 'Who may act for a store: its owner(s) and staff.';
revoke all on table public.store_members from anon, authenticated;
grant select on table public.store_members to authenticated;

-- "My stores": every policy on a store's rows asks it by user.
create index store_members_user_idx on public.store_members (user_id);

create table public.marketplace_admins (
  user_id     uuid primary key references auth.users (id) on delete cascade,
  created_at  timestamptz not null default now()
);
alter table public.marketplace_admins enable row level security;
comment on table public.marketplace_admins is 'Operators of the whole marketplace: they see every store''s events.';
revoke all on table public.marketplace_admins from anon, authenticated;
grant select on table public.marketplace_admins to authenticated;

-- The questions the policies ask about the current request's user. SECURITY DEFINER, so a
-- policy can ask without the caller reading store_members and marketplace_admins, and
-- without the policies of those two tables recursing into each other.
-- Signed-in users' policies call them, so authenticated executes them; anon's policies
-- (stores_read, products_read) call none, and revoking from public alone would leave anon
-- the execute that Supabase's default privileges give it.
create or replace function public.is_marketplace_admin()
returns boolean
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select exists (select 1 from marketplace_admins where user_id = auth.uid())
$$;
comment on function public.is_marketplace_admin() is 'True when the current request''s user (auth.uid()) is a marketplace admin.';
revoke all on function public.is_marketplace_admin() from public, anon;

create or replace function public.is_store_member(p_store_id uuid)
returns boolean
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select exists (select 1 from store_members where store_id = p_store_id and user_id = auth.uid())
$$;
comment on function public.is_store_member(uuid) is 'True when the current request''s user (auth.uid()) is an owner or staff member of the store.';
revoke all on function public.is_store_member(uuid) from public, anon;

-- "The store of this row is one of mine": a set, so that a policy's
-- `store_id in (select my_store_ids())` is evaluated once per query (an initplan), not
-- once per row.
create or replace function public.my_store_ids()
returns setof uuid
language sql stable security definer
set search_path = public, pg_catalog
as $$
  select store_id from store_members where user_id = auth.uid()
$$;
comment on function public.my_store_ids() is 'The stores the current request''s user is an owner or staff member of.';
revoke all on function public.my_store_ids() from public, anon;
