-- Flow control: what decides when an event runs, beyond "as soon as it is due, oldest
-- first" (docs/flow-control.md). It lives in the queue's SQL, so the Node dispatcher and
-- the Edge Functions behave the same, and with none of it in use an event is queued,
-- claimed and completed as if it did not exist: every step is skipped by a null or a zero.
-- How each works, in event_queue (events.sql), one row per open event:
--
--   delivery time  due_at is the delivery time instead of now; pending until then.
--   priority p     due_at is moved p seconds earlier (0 to 1000): the event goes ahead of
--                  events that became due less than p seconds before it, and never further,
--                  so nothing waits forever (ageing by construction). not_before keeps the
--                  real due time, which the claims respect; every writer of an unleased
--                  row's due_at applies the shift itself.
--   order          the events of one ordering key (an emit's own, or type:aggregate for a
--                  type configured `ordered`) form a line: the first is claimable, the
--                  others are held (held, due at 'infinity') and released one at a time, in
--                  emit order, when the one before leaves the queue (completed, discarded,
--                  cancelled) or, with on_dead_head = 'skip', goes dead. With 'hold' (the
--                  default) a dead head holds its line until an operator retries or
--                  discards it. No trigger releases them (events.sql says why the queue has
--                  none): every function that takes an ordered event off the queue or kills
--                  it calls release_lines, dequeue_events or skip_dead_heads, below.
--   fairness       when on (configure_tenant_fairness), every open queue row carries its
--                  tenant's lane (event_queue.tenant_id; events without a tenant share one
--                  lane, the nil uuid), and a claim serves the lanes that have due events in
--                  turn, an equal share of the batch each, then the rest of the batch to
--                  lanes without a cap of their own (fair_claimable, claims.sql). A capped
--                  lane is served by one claim at a time (a transaction-scoped advisory
--                  lock, tried, never waited for), which counts its leased events and takes
--                  no more than its room: the cap holds across dispatchers. The lanes' index
--                  holds only rows with a lane, so the bus pays for it only while on.
--   cancel         a pending event (scheduled, held or due) may be cancelled: terminal,
--                  audited, with its reason (cancel_event, operator.sql).
--
-- Here: the settings per event type and per tenant, the lines' keys, the functions that
-- configure them, the checks of an emit's options, and the release of lines. The emit
-- (emit.sql) and the claims (claims.sql) apply them. Retry policies per route and rate
-- limits are in routes.sql and rate-limits.sql.

-- Settings per event type. Exact types (one primary-key probe per emit); none: the defaults.
create table feyxa.event_type_settings (
  event_type text primary key check (feyxa.event_type_is_valid(event_type)),
  priority smallint check (priority between 0 and 1000),  -- the default; an emit's own wins
  ordered boolean default false not null,  -- a line per aggregate (type:aggregate_id)
  on_dead_head text default 'hold' not null check (on_dead_head in ('hold', 'skip')),
  updated_at timestamptz default now() not null
);
alter table feyxa.event_type_settings enable row level security;
comment on table feyxa.event_type_settings is 'Flow control per event type: default priority, order per aggregate, and what a dead head of a line does (hold its line, or skip). Written by configure_event_type.';
grant all on table feyxa.event_type_settings to service_role;

-- The last place handed out in each ordering key's line. Its row is the key's lock: an
-- emitter holds it from its upsert to its commit, and so does whoever releases the next
-- event of the line, so a release never misses an event emitted at the same time. A key's
-- row exists exactly while its line has events in the queue, which is how an emit knows
-- from its own upsert whether its event must wait.
create table feyxa.ordering_keys (
  ordering_key text collate "C" primary key,
  last_seq bigint not null  -- the ordering_seq of the line's latest event
);
alter table feyxa.ordering_keys enable row level security;
comment on table feyxa.ordering_keys is 'Internal: the last ordering_seq of each ordering key with open events; its row serialises the key''s emitters and releases. Removed when the line empties.';
grant all on table feyxa.ordering_keys to service_role;

-- A capped lane's events in flight are counted among the leased rows (event_queue_lease_idx,
-- as many as the dispatchers hold), not through an index of their own: one would cost every
-- lease an index insert, caps or not.
create table feyxa.tenant_limits (
  tenant_id uuid primary key,
  max_in_flight int not null check (max_in_flight > 0),
  updated_at timestamptz default now() not null
);
alter table feyxa.tenant_limits enable row level security;
comment on table feyxa.tenant_limits is 'Per-tenant caps on events in flight, overriding event_bus_settings.tenant_max_in_flight. Written by set_tenant_limit.';
grant all on table feyxa.tenant_limits to service_role;

-- The configuration verbs; from TypeScript configureEventType, configureTenantFairness and
-- setTenantLimit (src/bus/flow.ts).
create or replace function feyxa.configure_event_type(
  p_event_type text, p_priority int default null, p_ordered boolean default false, p_on_dead_head text default 'hold')
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

create or replace function feyxa.configure_tenant_fairness(p_enabled boolean, p_max_in_flight int default null)
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

create or replace function feyxa.set_tenant_limit(p_tenant_id uuid, p_max_in_flight int)
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

-- The flow-control options of an emit, checked; p_prefix names the element of a batch.
create or replace function feyxa.assert_flow_input(p_deliver_at timestamptz, p_priority int, p_ordering_key text, p_prefix text)
returns void
language plpgsql immutable
set search_path = feyxa, pg_catalog
as $$
begin
  if p_deliver_at is not null and not isfinite(p_deliver_at) then
    raise exception using errcode = '22023', message = p_prefix || 'deliver_at must be a finite time', detail = p_prefix || 'deliver_at';
  end if;
  if p_priority is not null and p_priority not between 0 and 1000 then
    raise exception using errcode = '22023', message = p_prefix || 'priority must be between 0 and 1000', detail = p_prefix || 'priority';
  end if;
  if p_ordering_key is not null and length(p_ordering_key) not between 1 and 200 then
    raise exception using errcode = '22023', message = p_prefix || 'ordering_key must be 1 to 200 characters', detail = p_prefix || 'ordering_key';
  end if;
end;
$$;
comment on function feyxa.assert_flow_input(timestamp with time zone,integer,text,text) is 'Validates an emit''s flow-control options (deliver_at, priority, ordering_key), naming the field.';
revoke all on function feyxa.assert_flow_input(timestamp with time zone,integer,text,text) from public;
grant execute on function feyxa.assert_flow_input(timestamp with time zone,integer,text,text) to service_role;

-- A batch element's flow-control options, checked: deliver_at a time, delay seconds (not
-- both), priority an integer, ordering_key a string.
create or replace function feyxa.assert_flow_element(p_event jsonb, p_prefix text)
returns void
language plpgsql
set search_path = feyxa, pg_catalog
as $$
declare
  v_at timestamptz;
begin
  if p_event ? 'deliver_at' and p_event ? 'delay' then
    raise exception using errcode = '22023', message = p_prefix || 'delay: give deliver_at or delay, not both', detail = p_prefix || 'delay';
  end if;
  if p_event ? 'deliver_at' then
    begin
      v_at := (p_event ->> 'deliver_at')::timestamptz;
    exception when others then
      raise exception using errcode = '22023', message = p_prefix || 'deliver_at must be a time (ISO 8601)', detail = p_prefix || 'deliver_at';
    end;
  end if;
  if p_event ? 'delay' and (jsonb_typeof(p_event -> 'delay') <> 'number' or (p_event ->> 'delay')::numeric not between 0 and 31536000) then
    raise exception using errcode = '22023', message = p_prefix || 'delay must be a number of seconds between 0 and 31536000', detail = p_prefix || 'delay';
  end if;
  if p_event ? 'priority' and (jsonb_typeof(p_event -> 'priority') <> 'number' or (p_event ->> 'priority') !~ '^\d{1,4}$') then
    raise exception using errcode = '22023', message = p_prefix || 'priority must be an integer between 0 and 1000', detail = p_prefix || 'priority';
  end if;
  if p_event ? 'ordering_key' and jsonb_typeof(p_event -> 'ordering_key') <> 'string' then
    raise exception using errcode = '22023', message = p_prefix || 'ordering_key must be a string', detail = p_prefix || 'ordering_key';
  end if;
  perform assert_flow_input(v_at, (p_event ->> 'priority')::int, p_event ->> 'ordering_key', p_prefix);
end;
$$;
comment on function feyxa.assert_flow_element(jsonb,text) is 'Validates a batch element''s flow-control options (deliver_at, delay, priority, ordering_key), naming the field.';
revoke all on function feyxa.assert_flow_element(jsonb,text) from public;
grant execute on function feyxa.assert_flow_element(jsonb,text) to service_role;

-- Lets the next event of each line go: called with the lines whose head (the one unheld
-- event of a line) just left the queue or stopped blocking. Takes the keys' locks first,
-- in one order (an emitter holds its key's from its upsert to its commit), then, in a new
-- statement that sees what those emitters committed, releases the earliest held event of
-- each line, due at its delivery time (kept in not_before while held) less its priority;
-- a line with nothing left forgets its key.
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

-- Why an open event waits, in the words of the monitor (WAITING_REASONS, src/bus/vocabulary.ts),
-- from its status and attempt and its queue row:
--   retrying   failed: due again at next_retry_at
--   held       behind an earlier event of its ordering line
--   paused     a route it owes is paused: parked (due at infinity) until resumed
--   due        claimable now
--   scheduled  not before its delivery time, first attempt to come
--   deferred   a rate limit's wait, after an attempt
-- Null when it does not wait (processing, or off the queue). SQL, without settings of its
-- own, so that the planner inlines it into the monitor's reads; it reads no table, and names
-- every operator qualified (as event_type_is_valid does), so no search_path changes it.
create or replace function feyxa.waiting_reason(p_status text, p_attempt int, p_held boolean, p_due_at timestamptz, p_not_before timestamptz)
returns text
language sql stable parallel safe
as $$
  select case
    when p_status operator(pg_catalog.=) 'failed' then 'retrying'
    when p_status operator(pg_catalog.<>) 'pending' or p_due_at is null then null
    when p_held then 'held'
    when p_due_at operator(pg_catalog.=) 'infinity'::timestamptz then 'paused'
    when coalesce(p_not_before, p_due_at) operator(pg_catalog.<=) pg_catalog.now() then 'due'
    when p_attempt operator(pg_catalog.=) 0 then 'scheduled'
    else 'deferred'
  end
$$;
comment on function feyxa.waiting_reason(text,integer,boolean,timestamp with time zone,timestamp with time zone) is 'Why an open event waits (retrying, held, paused, due, scheduled, deferred), from its status, attempt and event_queue row; null when it does not wait.';
revoke all on function feyxa.waiting_reason(text,integer,boolean,timestamp with time zone,timestamp with time zone) from public;
grant execute on function feyxa.waiting_reason(text,integer,boolean,timestamp with time zone,timestamp with time zone) to authenticated, service_role;

-- Lets go the events parked for a resumed route: the pending events due at infinity whose
-- latest attempt deferred that handler (run-attempt.ts parks an event whose owed route is
-- paused). Due now, their priority's head start kept; one whose other routes are still
-- paused parks again at its next attempt. Returns how many.
create or replace function feyxa.unpark_events(p_handler_name text)
returns integer
language sql security definer
set search_path = feyxa, pg_catalog
as $$
  with parked as (
    select q.event_id from event_queue q join events_log e on e.id = q.event_id
    where q.due_at = 'infinity' and q.locked_by is null and not q.held and e.status = 'pending'
      and exists (select 1 from event_handlers_log h
                  where h.event_id = e.id and h.attempt = e.attempt and h.handler_name = p_handler_name and h.status = 'deferred')
  ), due as (
    update event_queue q set due_at = now() - make_interval(secs => q.priority),
                             not_before = case when q.priority <> 0 then now() end
    from parked p where q.event_id = p.event_id
    returning q.event_id
  )
  select count(*)::int from due
$$;
comment on function feyxa.unpark_events(text) is 'Internal to resume_route: makes due now the events parked because they owe the resumed handler (pending, due at infinity, deferred by it in their latest attempt). Returns how many.';
revoke all on function feyxa.unpark_events(text) from public;
grant execute on function feyxa.unpark_events(text) to service_role;
