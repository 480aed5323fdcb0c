-- Automations (seed 004's AREA): a store owner says "when this happens, do these".
-- A trigger is an event pattern with a filter on payload fields; reactions emit an event,
-- notify the store or send an email, with parameters filled from the triggering event.
-- They run on the same bus: each automation's trigger pattern is routed to the handler
-- `automations.run`, which records one automation_runs row per automation and event.

create table if not exists automations (
  id              uuid primary key default gen_random_uuid(),
  store_id        uuid not null references stores (id) on delete cascade,
  name            text not null check (length(name) between 1 and 120),
  trigger_pattern text not null check (trigger_pattern = '*' or trigger_pattern ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$'),
  trigger_filter  jsonb not null default '{}' check (jsonb_typeof(trigger_filter) = 'object'),
  reactions       jsonb not null check (jsonb_typeof(reactions) = 'array' and jsonb_array_length(reactions) between 1 and 10),
  is_active       boolean not null default true,
  created_by      uuid references auth.users (id),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
create index if not exists automations_store_idx on automations (store_id) where is_active;
comment on table automations is 'A store''s "when this happens, do these": trigger pattern + payload filter, and reactions.';

create table if not exists automation_runs (
  id             bigint generated always as identity primary key,
  automation_id  uuid not null references automations (id) on delete cascade,
  event_id       uuid not null references events_log (id) on delete cascade,
  store_id       uuid not null references stores (id),
  status         text not null check (status in ('success', 'failed', 'skipped')),
  reactions_done int not null default 0,
  error_message  text,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  unique (automation_id, event_id)
);
comment on table automation_runs is 'One row per automation and triggering event: what its reactions did. A success is never run again.';

-- Route each automation's trigger pattern to automations.run while some active automation uses it.
create or replace function sync_automation_subscriptions()
returns trigger
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  insert into event_subscriptions (event_pattern, handler_name)
  select distinct trigger_pattern, 'automations.run' from automations where is_active
  on conflict (event_pattern, handler_name) do update set is_active = true;
  delete from event_subscriptions s
  where s.handler_name = 'automations.run'
    and not exists (select 1 from automations a where a.is_active and a.trigger_pattern = s.event_pattern);
  return null;
end;
$$;
comment on function sync_automation_subscriptions() is
  'Trigger: keeps one subscription (pattern -> automations.run) per trigger pattern that an active automation uses.';
drop trigger if exists automations_sync_subscriptions on automations;
create trigger automations_sync_subscriptions after insert or update or delete on automations
  for each statement execute function sync_automation_subscriptions();

-- Owners manage their store's automations; staff and admins read them; runs are read like events.
alter table automations enable row level security;
alter table automation_runs enable row level security;
revoke all on automations, automation_runs from anon, authenticated;
grant select, insert, update, delete on automations to authenticated;
grant select on automation_runs to authenticated;
grant all on automations, automation_runs to service_role;
revoke all on sequence automation_runs_id_seq from anon, authenticated;  -- an identity: inserts need no grant on it

drop policy if exists automations_read on automations;
create policy automations_read on automations for select to authenticated
  using ((select is_marketplace_admin()) or store_id in (select my_store_ids()));
drop policy if exists automations_owner_write on automations;
create policy automations_owner_write on automations for all to authenticated
  using (exists (select 1 from store_members m where m.store_id = automations.store_id and m.user_id = (select auth.uid()) and m.role = 'owner'))
  with check (exists (select 1 from store_members m where m.store_id = automations.store_id and m.user_id = (select auth.uid()) and m.role = 'owner')
              and created_by = (select auth.uid()));
drop policy if exists automation_runs_read on automation_runs;
create policy automation_runs_read on automation_runs for select to authenticated
  using ((select is_marketplace_admin()) or store_id in (select my_store_ids()));
revoke all on function sync_automation_subscriptions() from public, anon, authenticated;
