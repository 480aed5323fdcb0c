-- The monitor names tenants without knowing what a tenant is. Two more read hooks, in the
-- manner of reader_is_operator and reader_tenants (…900001): the tenants the caller may
-- filter by, with a label, and one tenant's label. The bus's bodies give the caller's
-- tenant keys unlabelled; the application replaces them (the marketplace: its stores).

create or replace function feyxa.reader_tenant_labels()
returns table (id uuid, name text, slug text)
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select t, null::text, null::text from unnest(reader_tenants()) t
$$;
comment on function feyxa.reader_tenant_labels() is
  'Read hook: the tenants the current request''s caller may filter the monitor by, with a name and a slug to show. The bus''s body lists reader_tenants() unlabelled; the application replaces it (same signature).';

create or replace function feyxa.tenant_label(p_tenant uuid)
returns text
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select null::text
$$;
comment on function feyxa.tenant_label(uuid) is
  'Read hook: the name the monitor shows for a tenant key (an event''s store_id). The bus''s body has none (null); the application replaces it (same signature).';

revoke all on function feyxa.reader_tenant_labels(), feyxa.tenant_label(uuid) from public, anon, authenticated;
grant execute on function feyxa.reader_tenant_labels(), feyxa.tenant_label(uuid) to authenticated, service_role;
