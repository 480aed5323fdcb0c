-- The marketplace's tenants: stores, who works in them, and who runs the marketplace.
-- Store membership decides what a signed-in user may read of the bus (and, later, of the
-- domain): marketplace admins read everything, a store's owner and staff read its events.

create table if not exists stores (
  id          uuid primary key default gen_random_uuid(),
  name        text not null check (length(name) between 1 and 120),
  slug        text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  currency    text not null default 'XOF' check (currency ~ '^[A-Z]{3}$'),
  created_at  timestamptz not null default now()
);
comment on table stores is 'A seller on the marketplace. Money of its orders is in its currency, in minor units.';

create table if not exists store_members (
  store_id    uuid not null references stores (id) on delete cascade,
  user_id     uuid not null references auth.users (id) on delete cascade,
  role        text not null check (role in ('owner', 'staff')),
  created_at  timestamptz not null default now(),
  primary key (store_id, user_id)
);
comment on table store_members is 'Who may act for a store: its owner(s) and staff.';
create index if not exists store_members_user_idx on store_members (user_id);

create table if not exists marketplace_admins (
  user_id     uuid primary key references auth.users (id) on delete cascade,
  created_at  timestamptz not null default now()
);
comment on table marketplace_admins is 'Operators of the whole marketplace: they see every store''s events.';

-- SECURITY DEFINER so that policies can ask without the caller reading these tables
-- (and without policies on them recursing into each other).
create or replace function is_marketplace_admin()
returns boolean
language sql stable
security definer
set search_path = public, pg_catalog
as $$
  select exists (select 1 from marketplace_admins where user_id = auth.uid())
$$;
comment on function is_marketplace_admin() is 'True when the current request''s user (auth.uid()) is a marketplace admin.';

create or replace function is_store_member(p_store_id uuid)
returns boolean
language sql stable
security definer
set search_path = public, pg_catalog
as $$
  select exists (select 1 from store_members where store_id = p_store_id and user_id = auth.uid())
$$;
comment on function is_store_member(uuid) is 'True when the current request''s user (auth.uid()) is an owner or staff member of the store.';

-- Signed-in users' policies call these, so authenticated must execute them; anon's
-- policies (stores_read, products_read) need neither. Supabase's default privileges
-- grant every new function to anon and authenticated: take back what no policy needs.
revoke all on function is_marketplace_admin(), is_store_member(uuid) from public, anon, authenticated;
grant execute on function is_marketplace_admin(), is_store_member(uuid) to authenticated, service_role;

-- The default privileges also grant anon and authenticated ALL on these tables. RLS
-- stops their INSERT, UPDATE and DELETE (no policy allows one), but not TRUNCATE, and
-- TRIGGER and REFERENCES are not row-level at all: start from nothing, grant the reads.
-- Stores, members and admins are written by the server only.
alter table stores enable row level security;
alter table store_members enable row level security;
alter table marketplace_admins enable row level security;
revoke all on stores, store_members, marketplace_admins from anon, authenticated;
grant select on stores to anon, authenticated;
grant select on store_members, marketplace_admins to authenticated;
grant all on stores, store_members, marketplace_admins to service_role;

drop policy if exists stores_read on stores;
create policy stores_read on stores for select to anon, authenticated using (true);
drop policy if exists store_members_read on store_members;
create policy store_members_read on store_members for select to authenticated
  using (user_id = (select auth.uid()) or (select is_marketplace_admin()) or is_store_member(store_id));
drop policy if exists marketplace_admins_read on marketplace_admins;
create policy marketplace_admins_read on marketplace_admins for select to authenticated
  using (user_id = (select auth.uid()) or (select is_marketplace_admin()));

-- The bus, read-only for signed-in users: admins everything, members their stores' events.
-- Written so the planner evaluates the admin check and the user's stores once per query
-- (initplans), not once per row: the monitor reads millions of rows through this policy.
grant select on events_log, event_handlers_log, event_queue to authenticated;
drop policy if exists events_log_read on events_log;
create policy events_log_read on events_log for select to authenticated
  using ((select is_marketplace_admin())
         or store_id in (select sm.store_id from store_members sm where sm.user_id = (select auth.uid())));
drop policy if exists event_handlers_log_read on event_handlers_log;
create policy event_handlers_log_read on event_handlers_log for select to authenticated
  using (exists (select 1 from events_log e where e.id = event_id));  -- rows of events the reader may see
drop policy if exists event_queue_read on event_queue;
create policy event_queue_read on event_queue for select to authenticated
  using (exists (select 1 from events_log e where e.id = event_id));  -- the open events the reader may see
