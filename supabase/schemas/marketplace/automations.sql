-- Automations (seed 004's AREA): a store owner says "when this happens, do these".
--
-- A trigger is an event pattern (order.created, order.*, *) with a filter on payload
-- fields; the reactions (1 to 10) emit an event of the automation's own, notify the store,
-- send an email or call a webhook, with parameters filled from the triggering event. Saved
-- through the automations HTTP function and validated by
-- src/marketplace/automations/schema.ts; owners write them, staff and admins read them
-- (access.sql).
--
-- They run on the same bus, with its retries and logs: a trigger on this table keeps one
-- route per trigger pattern an active automation uses (pattern -> automations.run, through
-- the bus's sync_routes), and automations.run (src/marketplace/automations/run.ts) records
-- one automation_runs row per automation and event; a success never runs again.
--
-- A trigger may also poll an HTTP endpoint (trigger_kind 'poll'): every interval the poller
-- (src/marketplace/automations/poll.ts; cron.sql schedules it on Supabase) fetches it,
-- takes the items of its JSON answer, and emits automation.polled for each item it has not
-- seen before. automation_poll_seen remembers every item key for good, so an item fires
-- once, however often it is served again.
--
-- The functions here are the server's (revoked from public, anon and authenticated;
-- service_role keeps the execute Supabase grants it); the two trigger functions are
-- SECURITY DEFINER because an owner saving an automation through the API may call neither
-- of the bus functions they use.

create table public.automations (
  id               uuid primary key default gen_random_uuid(),
  store_id         uuid not null references public.stores (id) on delete cascade,
  name             text not null check (length(name) between 1 and 120),
  trigger_pattern  text not null check (trigger_pattern = '*' or trigger_pattern ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$'),
  trigger_filter   jsonb not null default '{}' check (jsonb_typeof(trigger_filter) = 'object'),
  reactions        jsonb not null check (jsonb_typeof(reactions) = 'array' and jsonb_array_length(reactions) between 1 and 10),
  is_active        boolean not null default true,
  created_by       uuid references auth.users (id),
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  -- 'event': triggered by the events its pattern matches; 'poll': by polling, its pattern
  -- then automation.polled.
  trigger_kind     text not null default 'event' check (trigger_kind in ('event', 'poll')),
  -- {url, interval_seconds, items_path, id_field}: validated on save (src/marketplace/automations/schema.ts).
  poll             jsonb,
  last_polled_at   timestamptz,
  constraint automations_poll_shape check (
    (trigger_kind = 'event' and poll is null)
    or (trigger_kind = 'poll' and jsonb_typeof(poll) = 'object' and trigger_pattern = 'automation.polled'
        and poll ->> 'url' ~* '^https?://'
        and (poll ->> 'interval_seconds')::int between 10 and 86400))
);
alter table public.automations enable row level security;
comment on table public.automations is 'A store''s "when this happens, do these": trigger pattern + payload filter, and reactions.';
revoke all on table public.automations from anon, authenticated;
grant select, insert, update, delete on table public.automations to authenticated;

-- The poller's claim: polling automations by when they were last polled.
create index automations_poll_due_idx on public.automations (last_polled_at) where trigger_kind = 'poll' and is_active;
create index automations_store_idx on public.automations (store_id) where is_active;

create table public.automation_runs (
  id              bigint generated always as identity primary key,
  automation_id   uuid not null references public.automations (id) on delete cascade,
  event_id        uuid not null references feyxa.events_log (id) on delete cascade,
  store_id        uuid not null references public.stores (id),
  status          text not null check (status in ('success', 'failed', 'skipped')),
  reactions_done  int not null default 0,
  error_message   text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  unique (automation_id, event_id)
);
alter table public.automation_runs enable row level security;
comment on table public.automation_runs is 'One row per automation and triggering event: what its reactions did. A success is never run again.';
revoke all on table public.automation_runs from anon, authenticated;
grant select on table public.automation_runs to authenticated;
-- nextval needs no grant for an identity column: the API roles need none on its sequence.
revoke all on sequence public.automation_runs_id_seq from anon, authenticated;

create table public.automation_poll_seen (
  automation_id  uuid not null references public.automations (id) on delete cascade,
  item_key       text not null check (length(item_key) between 1 and 500),
  seen_at        timestamptz not null default now(),
  primary key (automation_id, item_key)
);
alter table public.automation_poll_seen enable row level security;
comment on table public.automation_poll_seen is 'Every item a polling automation has already seen: it fires once per item, for good.';
revoke all on table public.automation_poll_seen from anon, authenticated;

-- Routes each automation's trigger pattern to automations.run while some active automation
-- uses it: the automations' routes are the source 'automations' of sync_routes (the bus's
-- routes.sql), so an operator's switch on such a route holds, and a pattern no active
-- automation uses any more is retired. Once per statement, whatever the rows.
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
revoke all on function public.sync_automation_subscriptions() from public, anon, authenticated;

create trigger automations_sync_subscriptions
  after insert or update or delete on public.automations
  for each statement execute function public.sync_automation_subscriptions();

-- Outbound URLs (server-side request forgery): a poll's URL and a webhook reaction's URL
-- are called by the server for a store owner, so each is refused when it is saved, through
-- any API, if its host is literally not public (the bus's refuse_non_public_url,
-- outbound.sql: loopback, private, link-local, ... in any spelling; plain http unless
-- allow-listed). Host names are checked where they are resolved, at each request
-- (src/bus/outbound.ts): the database cannot know what a name will resolve to.
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
revoke all on function public.check_automation_urls() from public, anon, authenticated;

create trigger automations_outbound_urls
  before insert or update of poll, reactions on public.automations
  for each row execute function public.check_automation_urls();

-- Takes up to p_limit polling automations whose interval has passed, marking them polled
-- now (SKIP LOCKED: several pollers never poll one automation at once).
create or replace function public.claim_due_polls(p_limit int default 20)
returns table (id uuid, store_id uuid, poll jsonb)
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
revoke all on function public.claim_due_polls(int) from public, anon, authenticated;

-- Records the items of one poll and emits automation.polled for each one not seen before,
-- in one transaction, keyed poll:<automation>:<item key>. p_items: [{key, item}]. Returns
-- how many were new.
create or replace function public.record_poll_items(p_automation_id uuid, p_items jsonb)
returns int
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
revoke all on function public.record_poll_items(uuid,jsonb) from public, anon, authenticated;
