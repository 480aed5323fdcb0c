-- The marketplace's answer to the monitor's tenant hooks (…920000): a tenant is a store,
-- shown by its name; an operator (a marketplace admin) may filter by every store, anyone
-- else by the stores they own or staff. Store names are public (the catalogue).

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
comment on function feyxa.reader_tenant_labels() is
  'Read hook, the marketplace''s answer: the stores the caller may filter the monitor by (every store for an admin, their own for an owner or staff), by name.';

create or replace function feyxa.tenant_label(p_tenant uuid)
returns text
language sql stable
set search_path = pg_catalog
as $$
  select s.name from public.stores s where s.id = p_tenant
$$;
comment on function feyxa.tenant_label(uuid) is
  'Read hook, the marketplace''s answer: a store''s name.';
