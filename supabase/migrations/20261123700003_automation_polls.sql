-- Automations triggered by polling an HTTP endpoint (seed 004's polling triggers): every
-- interval the poller fetches the endpoint, takes the items of its JSON answer, and emits
-- `automation.polled` for each item it has not seen before. automation_poll_seen remembers
-- every item key for good, so an item fires once, however often it is served again.

alter table automations add column if not exists trigger_kind text not null default 'event'
  check (trigger_kind in ('event', 'poll'));
-- {url, interval_seconds, items_path, id_field}: validated on save (src/automations/schema.ts).
alter table automations add column if not exists poll jsonb;
alter table automations add column if not exists last_polled_at timestamptz;
alter table automations drop constraint if exists automations_poll_shape;
alter table automations add constraint automations_poll_shape check (
  (trigger_kind = 'event' and poll is null)
  or (trigger_kind = 'poll' and jsonb_typeof(poll) = 'object' and trigger_pattern = 'automation.polled'
      and (poll ->> 'url' ~ '^https://' or poll ->> 'url' ~ '^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?(/|$)')
      and (poll ->> 'interval_seconds')::int between 10 and 86400));
create index if not exists automations_poll_due_idx on automations (last_polled_at) where trigger_kind = 'poll' and is_active;

create table if not exists automation_poll_seen (
  automation_id uuid not null references automations (id) on delete cascade,
  item_key      text not null check (length(item_key) between 1 and 500),
  seen_at       timestamptz not null default now(),
  primary key (automation_id, item_key)
);
comment on table automation_poll_seen is 'Every item a polling automation has already seen: it fires once per item, for good.';
alter table automation_poll_seen enable row level security;
revoke all on automation_poll_seen from anon, authenticated;
grant all on automation_poll_seen to service_role;

-- Takes up to p_limit polling automations whose interval has passed, marking them polled
-- now (SKIP LOCKED: several pollers never poll one automation at once).
create or replace function claim_due_polls(p_limit int default 20)
returns table (id uuid, store_id uuid, poll jsonb)
language sql
security definer
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
comment on function claim_due_polls(int) is 'The poller''s claim: polling automations whose interval has passed, marked polled now.';

-- Records the items of one poll and emits automation.polled for each one not seen before,
-- in one transaction. p_items: [{key, item}]. Returns how many were new.
create or replace function record_poll_items(p_automation_id uuid, p_items jsonb)
returns int
language plpgsql
security definer
set search_path = public, pg_catalog
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
comment on function record_poll_items(uuid, jsonb) is
  'Remembers a poll''s item keys and emits automation.polled for each key never seen before (once, for good).';

revoke all on function claim_due_polls(int), record_poll_items(uuid, jsonb) from public, anon, authenticated;
grant execute on function claim_due_polls(int), record_poll_items(uuid, jsonb) to service_role;

-- On Supabase, pg_cron runs the poller every minute (where pg_cron and pg_net exist).
do $outer$
begin
  if to_regnamespace('cron') is not null then
    perform cron.schedule('feyxa-automations-poll', '* * * * *', $job$ select call_edge_function('automations-poll', '{}'::jsonb) $job$);
  end if;
exception when others then
  raise notice 'feyxa: could not schedule the automations poller (%)', sqlerrm;
end;
$outer$;
