-- The monitor (issue 4): what the event-monitor function reads besides the bus tables,
-- the audit trail of operator actions, and the indexes its filters and charts need.
--
-- Reads run as the caller (role authenticated, with the request's JWT claims), so the
-- RLS policies of 20261123100000_marketplace_stores.sql decide what each operator sees:
-- a marketplace admin every event, a store member only the events of their stores.

-- Every action an operator took: who, when, what, and what came of it. The id is chosen
-- by the page for each confirmed action, so sending the same action twice (a double
-- click, a retried request) does it once and answers the first result again.
create table if not exists monitor_actions (
  id          uuid primary key,
  actor_id    uuid not null,
  actor_email text,
  kind        text not null check (kind in ('retry', 'redrive', 'replay')),
  target      jsonb not null check (jsonb_typeof(target) = 'object'),
  result      jsonb not null default '{}' check (jsonb_typeof(result) = 'object'),
  created_at  timestamptz not null default now()
);
comment on table monitor_actions is
  'Audit trail of the monitor: each operator action (retry, redrive, replay) with its actor, target and result. Written only by the monitor_* action functions.';
create index if not exists monitor_actions_created_idx on monitor_actions (created_at desc);

alter table monitor_actions enable row level security;
revoke all on monitor_actions from anon, authenticated;
grant select on monitor_actions to authenticated;
grant all on monitor_actions to service_role;
drop policy if exists monitor_actions_read on monitor_actions;
create policy monitor_actions_read on monitor_actions for select to authenticated
  using ((select is_marketplace_admin()));

-- Indexes for the monitor's queries that the bus's own indexes do not cover.
-- Handler percentiles over a time window scan handler runs by time, all handlers at once.
-- BRIN, not B-tree: runs are appended in time order, so a block range summary finds a
-- window as well, and costs the drain (four runs per event) next to nothing to keep.
create index if not exists event_handlers_log_created_brin on event_handlers_log using brin (created_at);
-- (Newest first, type prefixes, store, aggregate id, event id and idempotency key
-- already have theirs: events_log_created_idx, events_log_type_created_idx,
-- events_log_store_created_idx, events_log_aggregate_idx,
-- the primary key and the unique idempotency_key; a status other than completed, the
-- retry queue and the dead letters are read through event_queue. No index on events_log
-- may cover a column that the claim or the completion changes: see its table.)

-- The handlers an event type is routed to now. Mirrors patternMatches in
-- src/core/router.ts: `*` matches every type, `order.*` every type under `order.`,
-- anything else only itself. SECURITY DEFINER: operators may see routing, not edit it.
-- Operators are the monitor's users: marketplace admins, and store staff (who see their
-- stores' events and what each is owed). Any other signed-in user, a buyer, gets nothing.
-- The server (service_role, or postgres with no request claims) gets the routing; the
-- claims are read without auth.role(), which fails on the empty setting a pooled
-- connection keeps after a request's `set local`.
create or replace function monitor_routed_handlers(p_event_type text)
returns text[]
language plpgsql stable
security definer
set search_path = public, pg_catalog
as $$
begin
  if (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') is not distinct from 'authenticated'
     and not is_marketplace_admin()
     and not exists (select 1 from store_members m where m.user_id = auth.uid()) then
    return '{}';
  end if;
  return (
    select coalesce(array_agg(distinct s.handler_name order by s.handler_name), '{}')
    from event_subscriptions s
    where s.is_active
      and (s.event_pattern = '*'
           or s.event_pattern = p_event_type
           or (right(s.event_pattern, 2) = '.*' and starts_with(p_event_type, left(s.event_pattern, -1)))));
end;
$$;
comment on function monitor_routed_handlers(text) is
  'The active handler names an event type is routed to (same matching as the dispatcher''s Router: *, prefix.*, exact); empty for a signed-in user who is neither an admin nor store staff.';

revoke all on function monitor_routed_handlers(text) from public, anon, authenticated;
grant execute on function monitor_routed_handlers(text) to authenticated, service_role;
