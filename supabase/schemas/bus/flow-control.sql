-- [20261128000000]
-- Settings per event type. Exact types (one primary-key probe per emit); none: the defaults.
create table feyxa.event_type_settings (
  event_type text primary key check (feyxa.event_type_is_valid(event_type)),
  priority smallint check ((priority >= 0) and (priority <= 1000)),
  ordered boolean default false not null,
  on_dead_head text default 'hold' not null check (on_dead_head in ('hold', 'skip')),
  updated_at timestamp with time zone default now() not null
);
alter table feyxa.event_type_settings enable row level security;
comment on table feyxa.event_type_settings is 'Flow control per event type: default priority, order per aggregate, and what a dead head of a line does (hold its line, or skip). Written by configure_event_type.';
grant all on table feyxa.event_type_settings to service_role;

-- [20261128000000]
-- The last place handed out in each ordering key's line. Its row is the key's lock: an
-- emitter holds it from its upsert to its commit, and so does whoever releases the next
-- event of the line, so a release never misses an event emitted at the same time.
create table feyxa.ordering_keys (
  ordering_key text collate "C" primary key,
  last_seq bigint not null
);
alter table feyxa.ordering_keys enable row level security;
comment on table feyxa.ordering_keys is 'Internal: the last ordering_seq of each ordering key with open events; its row serialises the key''s emitters and releases. Removed when the line empties.';
grant all on table feyxa.ordering_keys to service_role;

-- [20261128000000]
-- A capped lane's events in flight are counted among the leased rows (event_queue_lease_idx,
-- as many as the dispatchers hold), not through an index of their own: one would cost every
-- lease an index insert, caps or not.
create table feyxa.tenant_limits (
  tenant_id uuid primary key,
  max_in_flight integer not null check (max_in_flight > 0),
  updated_at timestamp with time zone default now() not null
);
alter table feyxa.tenant_limits enable row level security;
comment on table feyxa.tenant_limits is 'Per-tenant caps on events in flight, overriding event_bus_settings.tenant_max_in_flight. Written by set_tenant_limit.';
grant all on table feyxa.tenant_limits to service_role;

-- [20261128000000]
create or replace function feyxa.configure_event_type(p_event_type text, p_priority integer default null, p_ordered boolean default false, p_on_dead_head text default 'hold'::text)
returns feyxa.event_type_settings
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_row event_type_settings;
begin
  if p_event_type is null or not event_type_is_valid(p_event_type) then
    raise exception using errcode = '22023', message = 'event_type must be lowercase words joined by dots', detail = 'event_type';
  end if;
  if p_priority is not null and p_priority not between 0 and 1000 then
    raise exception using errcode = '22023', message = 'priority must be between 0 and 1000', detail = 'priority';
  end if;
  if p_on_dead_head is null or p_on_dead_head not in ('hold', 'skip') then
    raise exception using errcode = '22023', message = 'on_dead_head must be hold or skip', detail = 'on_dead_head';
  end if;
  insert into event_type_settings as s (event_type, priority, ordered, on_dead_head)
  values (p_event_type, p_priority, coalesce(p_ordered, false), p_on_dead_head)
  on conflict (event_type) do update
    set priority = excluded.priority, ordered = excluded.ordered, on_dead_head = excluded.on_dead_head, updated_at = now()
  returning * into v_row;
  return v_row;
end;
$$;
comment on function feyxa.configure_event_type(text,integer,boolean,text) is 'Sets the flow control of an event type: its default priority (0 to 1000 seconds of head start; null: 0), whether its events are handled one at a time per aggregate in emit order, and whether a dead head holds its line (hold) or lets it move on (skip). Applies to events emitted afterwards.';
revoke all on function feyxa.configure_event_type(text,integer,boolean,text) from public;
grant execute on function feyxa.configure_event_type(text,integer,boolean,text) to service_role;

-- [20261128000000]
create or replace function feyxa.configure_tenant_fairness(p_enabled boolean, p_max_in_flight integer default null)
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if p_enabled is null then
    raise exception using errcode = '22023', message = 'enabled must be true or false', detail = 'enabled';
  end if;
  if p_max_in_flight is not null and p_max_in_flight < 1 then
    raise exception using errcode = '22023', message = 'max_in_flight must be at least 1', detail = 'max_in_flight';
  end if;
  update event_bus_settings set tenant_fairness = p_enabled, tenant_max_in_flight = p_max_in_flight, updated_at = now();
  -- The open events join their lanes, or leave them. Under the settings row's lock: an
  -- emit that read the old setting has committed before this reads the queue.
  if p_enabled then
    update event_queue q set tenant_id = coalesce(e.tenant_id, '00000000-0000-0000-0000-000000000000')
    from events_log e where e.id = q.event_id and q.tenant_id is null;
  else
    update event_queue set tenant_id = null where tenant_id is not null;
  end if;
end;
$$;
comment on function feyxa.configure_tenant_fairness(boolean,integer) is 'Turns the fair claim on or off, with the default cap on one tenant''s events in flight (null: none). The open events join (or leave) their tenants'' lanes.';
revoke all on function feyxa.configure_tenant_fairness(boolean,integer) from public;
grant execute on function feyxa.configure_tenant_fairness(boolean,integer) to service_role;

-- [20261128000000]
create or replace function feyxa.set_tenant_limit(p_tenant_id uuid, p_max_in_flight integer)
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if p_tenant_id is null then
    raise exception using errcode = '22023', message = 'tenant_id is required', detail = 'tenant_id';
  end if;
  if p_max_in_flight is null then
    delete from tenant_limits where tenant_id = p_tenant_id;
  elsif p_max_in_flight < 1 then
    raise exception using errcode = '22023', message = 'max_in_flight must be at least 1', detail = 'max_in_flight';
  else
    insert into tenant_limits (tenant_id, max_in_flight) values (p_tenant_id, p_max_in_flight)
    on conflict (tenant_id) do update set max_in_flight = excluded.max_in_flight, updated_at = now();
  end if;
end;
$$;
comment on function feyxa.set_tenant_limit(uuid,integer) is 'Caps one tenant''s events in flight across all dispatchers (null: back to the default). Applies while fairness is on.';
revoke all on function feyxa.set_tenant_limit(uuid,integer) from public;
grant execute on function feyxa.set_tenant_limit(uuid,integer) to service_role;

-- [20261128000001]
-- Lets the next event of each line go: called with the lines whose head (the one unheld
-- event of a line) just left the queue or stopped blocking. Takes the keys' locks first,
-- in one order (an emitter holds its key's from its upsert to its commit), then, in a new
-- statement that sees what those emitters committed, releases the earliest held event of
-- each line, due at its delivery time (kept in not_before while held) less its priority;
-- a line with nothing left forgets its key, so that a key's row exists exactly while its
-- line has events in the queue (which is how an emit knows it must wait: 20261128000002).
-- Set-based: complete_attempts releases a whole batch's lines in one call (npm run bench:
-- a statement per line cost the ordered drain a third of its speed).
create or replace function feyxa.release_lines(p_keys text[])
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  perform 1 from ordering_keys where ordering_key = any (p_keys) order by ordering_key for update;
  with lines as (
    select k.key,
           (select h.event_id from event_queue h where h.ordering_key = k.key and h.held
            order by h.ordering_seq limit 1) as next
    from unnest(p_keys) as k(key)
  ), released as (
    update event_queue q set held = false,
      due_at = greatest(now(), coalesce(q.not_before, now())) - make_interval(secs => q.priority),
      not_before = case when q.priority <> 0 then greatest(now(), coalesce(q.not_before, now())) end
    from lines l
    where q.event_id = l.next
  )
  delete from ordering_keys o using lines l
  where o.ordering_key = l.key and l.next is null;
end;
$$;
comment on function feyxa.release_lines(text[]) is 'Internal: the head of each of these ordering lines has left: releases each line''s earliest held event, or forgets the key of a line left empty.';
revoke all on function feyxa.release_lines(text[]) from public;
grant execute on function feyxa.release_lines(text[]) to service_role;

-- [20261128000001]
-- Takes events off the queue for good (cancelled, discarded, or a stale row), releasing
-- the lines they were at the head of (a held event leaving changes nothing ahead of it).
create or replace function feyxa.dequeue_events(p_event_ids uuid[])
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_lines text[];
begin
  with gone as (
    delete from event_queue q where q.event_id = any (p_event_ids) returning q.ordering_key, q.held
  )
  select array_agg(gone.ordering_key) into v_lines from gone where gone.ordering_key is not null and not gone.held;
  if v_lines is not null then
    perform release_lines(v_lines);
  end if;
end;
$$;
comment on function feyxa.dequeue_events(uuid[]) is 'Internal: deletes the events'' queue rows and lets the next event of their ordering lines go.';
revoke all on function feyxa.dequeue_events(uuid[]) from public;
grant execute on function feyxa.dequeue_events(uuid[]) to service_role;

-- [20261128000001]
-- A dead head (its queue row parked at infinity, unheld) stops blocking its line when its
-- type says skip; with hold (the default) it blocks until an operator retries or discards it.
create or replace function feyxa.skip_dead_heads(p_event_ids uuid[])
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_lines text[];
begin
  with skipped as (
    update event_queue q set ordering_key = null
    from events_log e join event_type_settings s on s.event_type = e.event_type
    where q.event_id = any (p_event_ids) and e.id = q.event_id
      and q.ordering_key is not null and not q.held and e.status = 'dead' and s.on_dead_head = 'skip'
    returning e.ordering_key
  )
  select array_agg(skipped.ordering_key) into v_lines from skipped;
  if v_lines is not null then
    perform release_lines(v_lines);
  end if;
end;
$$;
comment on function feyxa.skip_dead_heads(uuid[]) is 'Internal: of the given events, the dead heads of lines whose type says on_dead_head = skip stop blocking, and the next event of each line goes.';
revoke all on function feyxa.skip_dead_heads(uuid[]) from public;
grant execute on function feyxa.skip_dead_heads(uuid[]) to service_role;
