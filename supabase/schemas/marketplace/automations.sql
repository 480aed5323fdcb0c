-- [20261123700000]
-- Automations (seed 004's AREA): a store owner says "when this happens, do these".
-- A trigger is an event pattern with a filter on payload fields; reactions emit an event,
-- notify the store or send an email, with parameters filled from the triggering event.
-- They run on the same bus: each automation's trigger pattern is routed to the handler
-- `automations.run`, which records one automation_runs row per automation and event.
create table public.automations (
  id uuid default gen_random_uuid() primary key,
  store_id uuid not null references public.stores(id) on delete cascade,
  name text not null check ((length(name) >= 1) and (length(name) <= 120)),
  trigger_pattern text not null check ((trigger_pattern = '*'::text) or (trigger_pattern ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$'::text)),
  trigger_filter jsonb default '{}'::jsonb not null check (jsonb_typeof(trigger_filter) = 'object'::text),
  reactions jsonb not null check ((jsonb_typeof(reactions) = 'array'::text) and ((jsonb_array_length(reactions) >= 1) and (jsonb_array_length(reactions) <= 10))),
  is_active boolean default true not null,
  created_by uuid references auth.users(id),
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  -- [20261123700003]
  -- Automations triggered by polling an HTTP endpoint (seed 004's polling triggers): every
  -- interval the poller fetches the endpoint, takes the items of its JSON answer, and emits
  -- `automation.polled` for each item it has not seen before. automation_poll_seen remembers
  -- every item key for good, so an item fires once, however often it is served again.
  trigger_kind text default 'event' not null check (trigger_kind in ('event', 'poll')),
  -- [20261123700003]
  -- {url, interval_seconds, items_path, id_field}: validated on save (src/automations/schema.ts).
  poll jsonb,
  -- [20261123700003]
  last_polled_at timestamp with time zone,
  constraint automations_poll_shape check (((trigger_kind = 'event'::text) and (poll is null)) or ((trigger_kind = 'poll'::text) and (jsonb_typeof(poll) = 'object'::text) and (trigger_pattern = 'automation.polled'::text) and ((poll ->> 'url'::text) ~* '^https?://'::text) and ((((poll ->> 'interval_seconds'::text))::integer >= 10) and (((poll ->> 'interval_seconds'::text))::integer <= 86400))))
);
alter table public.automations enable row level security;
comment on table public.automations is 'A store''s "when this happens, do these": trigger pattern + payload filter, and reactions.';
revoke all on table public.automations from anon, authenticated;
grant insert, select, update, delete on table public.automations to authenticated;

-- [20261123700003]
create index automations_poll_due_idx on public.automations (last_polled_at) where ((trigger_kind = 'poll'::text) and is_active);

-- [20261123700000]
create index automations_store_idx on public.automations (store_id) where is_active;

-- [20261123700000]

create table public.automation_runs (
  id bigint generated always as identity primary key,
  automation_id uuid not null references public.automations(id) on delete cascade,
  event_id uuid not null references feyxa.events_log(id) on delete cascade,
  store_id uuid not null references public.stores(id),
  status text not null check (status in ('success', 'failed', 'skipped')),
  reactions_done integer default 0 not null,
  error_message text,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  constraint automation_runs_automation_id_event_id_key unique (automation_id, event_id)
);
alter table public.automation_runs enable row level security;
comment on table public.automation_runs is 'One row per automation and triggering event: what its reactions did. A success is never run again.';
revoke all on table public.automation_runs from anon, authenticated;
grant select on table public.automation_runs to authenticated;
revoke all on sequence public.automation_runs_id_seq from anon, authenticated;

-- [20261123700003]

create table public.automation_poll_seen (
  automation_id uuid not null references public.automations(id) on delete cascade,
  item_key text not null check ((length(item_key) >= 1) and (length(item_key) <= 500)),
  seen_at timestamp with time zone default now() not null,
  constraint automation_poll_seen_pkey primary key (automation_id, item_key)
);
alter table public.automation_poll_seen enable row level security;
comment on table public.automation_poll_seen is 'Every item a polling automation has already seen: it fires once per item, for good.';
revoke all on table public.automation_poll_seen from anon, authenticated;

-- [first 20261123700000]
-- Route each automation's trigger pattern to automations.run while some active automation uses it.
-- [20261127400000]
create or replace function public.sync_automation_subscriptions()
returns trigger
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
as $$
begin
  perform sync_routes('automations', coalesce(
    (select jsonb_agg(distinct jsonb_build_object('event_pattern', trigger_pattern, 'handler_name', 'automations.run'))
     from automations where is_active), '[]'));
  return null;
end;
$$;
comment on function public.sync_automation_subscriptions() is 'Trigger: sync_routes(''automations'', ...): one route (pattern -> automations.run) per trigger pattern an active automation uses; unused ones retired.';
revoke all on function public.sync_automation_subscriptions() from anon, authenticated, public;

-- [20261123700003]
-- Takes up to p_limit polling automations whose interval has passed, marking them polled
-- now (SKIP LOCKED: several pollers never poll one automation at once).
create or replace function public.claim_due_polls(p_limit integer default 20)
returns table(id uuid, store_id uuid, poll jsonb)
language sql security definer
set search_path = public, pg_catalog
as $$
  update automations a set last_polled_at = now()
  from (select id from automations
        where trigger_kind = 'poll' and is_active
          and (last_polled_at is null or last_polled_at + make_interval(secs => (poll ->> 'interval_seconds')::int) <= now())
        order by last_polled_at nulls first limit p_limit for update skip locked) due
  where a.id = due.id
  returning a.id, a.store_id, a.poll
$$;
comment on function public.claim_due_polls(integer) is 'The poller''s claim: polling automations whose interval has passed, marked polled now.';
revoke all on function public.claim_due_polls(integer) from anon, authenticated, public;

-- [20261123700003]
-- Records the items of one poll and emits automation.polled for each one not seen before,
-- in one transaction. p_items: [{key, item}]. Returns how many were new.
create or replace function public.record_poll_items(p_automation_id uuid, p_items jsonb)
returns integer
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
as $$
declare
  v_store uuid;
  v_new   int := 0;
  v_item  record;
begin
  select store_id into v_store from automations where id = p_automation_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('no automation %s', p_automation_id), detail = 'automation_id';
  end if;
  for v_item in
    with fresh as (
      insert into automation_poll_seen (automation_id, item_key)
      select p_automation_id, i ->> 'key' from jsonb_array_elements(p_items) i
      on conflict do nothing
      returning item_key
    )
    select f.item_key, (select i -> 'item' from jsonb_array_elements(p_items) i where i ->> 'key' = f.item_key limit 1) as item
    from fresh f
  loop
    perform emit_event('automation.polled', 'automation', p_automation_id, v_store,
                       jsonb_build_object('automation_id', p_automation_id, 'item_key', v_item.item_key, 'item', v_item.item),
                       'poll:' || p_automation_id || ':' || v_item.item_key);
    v_new := v_new + 1;
  end loop;
  return v_new;
end;
$$;
comment on function public.record_poll_items(uuid,jsonb) is 'Remembers a poll''s item keys and emits automation.polled for each key never seen before (once, for good).';
revoke all on function public.record_poll_items(uuid,jsonb) from anon, authenticated, public;

-- [20261127200000]
create or replace function public.check_automation_urls()
returns trigger
language plpgsql security definer
set search_path = public, feyxa, pg_catalog
as $$
declare
  i int;
begin
  perform refuse_non_public_url(new.poll ->> 'url', 'poll.url');
  for i in 0 .. coalesce(jsonb_array_length(new.reactions), 0) - 1 loop
    if new.reactions -> i ->> 'type' = 'webhook' then
      perform refuse_non_public_url(new.reactions -> i ->> 'url', 'reactions.' || i || '.url');
    end if;
  end loop;
  return new;
end;
$$;
comment on function public.check_automation_urls() is 'Trigger: an automation''s poll URL and webhook reaction URLs must pass outbound_url_refusal when saved, through any API.';
revoke all on function public.check_automation_urls() from anon, authenticated, public;

-- [20261127200000]
create trigger automations_outbound_urls before insert or update of poll, reactions on public.automations for each row execute function public.check_automation_urls();

-- [20261123700000]
create trigger automations_sync_subscriptions after insert or delete or update on public.automations for each statement execute function public.sync_automation_subscriptions();
