-- Emitting: the one way into the bus. Triggers and application code call emit_event
-- in the same transaction as their business write, so a rolled-back write emits nothing.

-- Where the Edge Functions live, for the HTTP wake-ups that pg_net and pg_cron send
-- (e.g. https://<ref>.supabase.co/functions/v1). Null: no HTTP calls from the database.
alter table event_bus_settings add column if not exists functions_url text;

-- Calls an Edge Function through pg_net, authenticated with the service key kept in
-- Supabase Vault under the name 'feyxa_service_key'. Returns false (and does nothing)
-- where pg_net or the URL is missing. It never raises: a lost wake-up is caught by the
-- dispatcher's poll and by retry-failed-events, but a failed emit would lose the event.
create or replace function call_edge_function(p_function text, p_body jsonb)
returns boolean
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_base text;
  v_key  text;
begin
  select functions_url into v_base from event_bus_settings;
  if v_base is null or to_regnamespace('net') is null then
    return false;
  end if;
  if to_regclass('vault.decrypted_secrets') is not null then
    execute $q$select decrypted_secret from vault.decrypted_secrets where name = 'feyxa_service_key'$q$ into v_key;
  end if;
  execute 'select net.http_post(url := $1, body := $2, headers := $3, timeout_milliseconds := 15000)'
    using rtrim(v_base, '/') || '/' || p_function, p_body,
          jsonb_build_object('content-type', 'application/json')
            || case when v_key is null then '{}'::jsonb
                    else jsonb_build_object('authorization', 'Bearer ' || v_key, 'apikey', v_key) end;
  return true;
exception when others then
  raise warning 'feyxa: could not call edge function %: %', p_function, sqlerrm;
  return false;
end;
$$;
comment on function call_edge_function(text, jsonb) is
  'POSTs a JSON body to an Edge Function through pg_net, with the Vault service key. False, never an error, when it cannot.';

-- Waking the dispatchers: the NOTIFY of an emit is sent at commit, and coalesced under contention.
--
-- Why: PostgreSQL serialises the commits of transactions that NOTIFY (a global lock taken
-- just before the commit and held through its WAL flush), so notifying transactions cannot
-- share an fsync with each other. With emit_event notifying in every transaction, 16
-- concurrent producers committed about 4x fewer events a second than without the NOTIFY.
--
-- The contract of the feyxa_events wake-up:
-- - A transaction that inserted events NOTIFYs feyxa_events once, at its commit, with the
--   id of its first new event as the payload. A lone emit always wakes the listeners.
-- - Under contention wake-ups are coalesced: the NOTIFY is sent only by the committing
--   transaction that wins pg_try_advisory_xact_lock(feyxa wake key); a transaction that
--   finds the key taken knows that another notifying commit is under way at this very
--   moment, whose wake-up makes the dispatchers claim (and, having found events, claim
--   again a few ms later: src/core/dispatcher.ts). It skips its own NOTIFY, and so commits
--   without queueing behind the notify lock. What could slip through (the other commit
--   aborting after taking the key) is caught by the dispatchers' poll, as a lost NOTIFY
--   always was.
-- - Taking the key at commit time (a deferred trigger), not during the emit, matters: a
--   long transaction that emitted early does not hold the key, and so does not silence
--   everyone else's wake-ups, while it does other work.
-- The pg_net wake-up of process-event is coalesced on its own terms (at most one per
-- transaction, none while one is queued: tests/core/wake.test.ts), and wake_dispatchers(),
-- which the monitor's actions call after re-opening events, NOTIFYs at once.

-- The pg_net half of wake_dispatchers, on its own, for the emit functions below.
create or replace function wake_dispatchers_by_http(p_event_id uuid)
returns void
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_queued boolean := false;
begin
  if coalesce(current_setting('feyxa.http_wake_sent', true), '') = 'on'
     or to_regnamespace('net') is null
     or (select functions_url from event_bus_settings) is null then
    return;
  end if;
  perform set_config('feyxa.http_wake_sent', 'on', true);
  begin
    execute $q$select exists (select 1 from net.http_request_queue where url like '%/process-event')$q$ into v_queued;
  exception when others then
    v_queued := false;  -- another pg_net version without that table: just send
  end;
  if not v_queued then
    perform call_edge_function('process-event', jsonb_build_object('event_id', p_event_id, 'drain', true));
  end if;
end;
$$;
comment on function wake_dispatchers_by_http(uuid) is
  'The coalesced pg_net wake-up of process-event (at most one per transaction, none while one is queued); no NOTIFY.';

-- An immediate NOTIFY plus the coalesced pg_net wake-up. Used by the monitor's actions
-- (retry, redrive, replay), a handful of calls, not the emit path.
create or replace function wake_dispatchers(p_event_id uuid)
returns void
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  perform pg_notify('feyxa_events', p_event_id::text);
  perform wake_dispatchers_by_http(p_event_id);
end;
$$;
comment on function wake_dispatchers(uuid) is
  'NOTIFY feyxa_events with the event id now, plus a coalesced pg_net wake-up of process-event where configured.';

-- Fires at commit (a deferred constraint trigger) for each event the transaction inserted;
-- only the first call of a transaction does anything. See the contract above.
-- The key (1717924472, 1) is the bus's own advisory lock key for its wake-up.
create or replace function notify_events_on_commit()
returns trigger
language plpgsql
set search_path = pg_catalog
as $$
begin
  if current_setting('feyxa.commit_wake', true) = 'done' then
    return null;
  end if;
  perform set_config('feyxa.commit_wake', 'done', true);
  if pg_try_advisory_xact_lock(1717924472, 1) then
    perform pg_notify('feyxa_events', new.id::text);
  end if;
  return null;
end;
$$;
comment on function notify_events_on_commit() is
  'Deferred trigger: at commit, NOTIFY feyxa_events once per transaction with its first new event id, unless another notifying commit holds the wake key at that moment (coalesced).';
drop trigger if exists events_log_wake_on_commit on events_log;
create constraint trigger events_log_wake_on_commit
  after insert on events_log
  deferrable initially deferred
  for each row execute function notify_events_on_commit();

-- Checks one event's fields; raises invalid_parameter_value (22023) naming the field,
-- or program_limit_exceeded (54000) for an oversized payload. p_where prefixes the
-- field name, e.g. 'events[3].' in a batch.
create or replace function assert_event_input(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_payload jsonb,
  p_idempotency_key text, p_where text default ''
)
returns void
language plpgsql immutable
set search_path = public, pg_catalog
as $$
begin
  if p_event_type is null or not event_type_is_valid(p_event_type) then
    raise exception using errcode = '22023', message = format('%sevent_type must be lowercase words joined by dots, like order.created (got %s)', p_where, coalesce(quote_literal(left(p_event_type, 100)), 'null')),
      detail = p_where || 'event_type';
  end if;
  if p_aggregate_type is null or p_aggregate_type !~ '^[a-z][a-z0-9_]{0,62}$' then
    raise exception using errcode = '22023', message = format('%saggregate_type must be a lowercase word, like order (got %s)', p_where, coalesce(quote_literal(left(p_aggregate_type, 100)), 'null')),
      detail = p_where || 'aggregate_type';
  end if;
  if p_aggregate_id is null then
    raise exception using errcode = '22023', message = p_where || 'aggregate_id is required', detail = p_where || 'aggregate_id';
  end if;
  if p_payload is null or jsonb_typeof(p_payload) <> 'object' then
    raise exception using errcode = '22023', message = p_where || 'payload must be a JSON object', detail = p_where || 'payload';
  end if;
  if octet_length(p_payload::text) > 65536 then
    raise exception using errcode = '54000', message = format('%spayload is %s bytes; the limit is 65536', p_where, octet_length(p_payload::text)),
      detail = p_where || 'payload';
  end if;
  if p_idempotency_key is not null and length(p_idempotency_key) not between 1 and 200 then
    raise exception using errcode = '22023', message = p_where || 'idempotency_key must be 1 to 200 characters', detail = p_where || 'idempotency_key';
  end if;
end;
$$;
comment on function assert_event_input(text, text, uuid, jsonb, text, text) is
  'Validates an event before it is stored; the error names the field (in DETAIL too) so callers can report it.';

-- The key an event gets when its emitter gives none: `type:aggregate` for the types
-- declared once per aggregate (a second order.created for one order is a duplicate),
-- a fresh random key for everything else (a second payment.failed is a new fact).
create or replace function default_idempotency_key(p_event_type text, p_aggregate_id uuid)
returns text
language sql stable
set search_path = public, pg_catalog
as $$
  select case when p_event_type = any (s.once_per_aggregate)
              then p_event_type || ':' || p_aggregate_id
              else p_event_type || ':' || gen_random_uuid() end
  from event_bus_settings s
$$;
comment on function default_idempotency_key(text, uuid) is
  'Idempotency key for an event emitted without one: type:aggregate_id when the type is once-per-aggregate, else type:<random uuid>.';

-- Emits one event and says whether it was new. A duplicate idempotency key inserts
-- nothing and returns the existing event. Concurrent emits of one key are safe: the
-- unique index makes the later ones wait for the first and then see its row.
-- It is what producers pay on every business write, so it does little per call: valid
-- input (the usual case) is checked in one expression, and only input that fails it goes
-- through assert_event_input for the precise error; the settings, the insert and the queue
-- row are one statement; it returns one row, not a set; the NOTIFY comes from the trigger
-- above at commit, the pg_net wake-up from here, only where a URL is set.
create or replace function emit_event_report(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_store_id uuid,
  p_payload jsonb, p_idempotency_key text default null,
  out event_id uuid, out inserted boolean
)
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_url text;
begin
  if p_event_type is null or not event_type_is_valid(p_event_type)
     or p_aggregate_type is null or p_aggregate_type !~ '^[a-z][a-z0-9_]{0,62}$'
     or p_aggregate_id is null or p_payload is null or jsonb_typeof(p_payload) <> 'object'
     or octet_length(p_payload::text) > 65536
     or length(p_idempotency_key) not between 1 and 200 then
    perform assert_event_input(p_event_type, p_aggregate_type, p_aggregate_id, p_payload, p_idempotency_key);
  end if;

  -- The event and its place in the queue (due at once), in one statement with the settings
  -- it needs: the retries, and for an event without a key the default key (the rule of
  -- default_idempotency_key).
  with settings as (
    select default_max_retries, once_per_aggregate, functions_url from event_bus_settings
  ), ins as (
    insert into events_log (event_type, aggregate_type, aggregate_id, store_id, payload, idempotency_key, max_retries)
    select p_event_type, p_aggregate_type, p_aggregate_id, p_store_id, p_payload,
           coalesce(p_idempotency_key,
                    case when p_event_type = any (s.once_per_aggregate) then p_event_type || ':' || p_aggregate_id
                         else p_event_type || ':' || gen_random_uuid() end),
           s.default_max_retries
    from settings s
    on conflict (idempotency_key) do nothing
    returning id, created_at
  ), queued as (
    insert into event_queue as q (event_id, due_at) select ins.id, ins.created_at from ins
    returning q.event_id
  )
  select queued.event_id, s.functions_url into event_id, v_url
  from settings s left join queued on true;

  inserted := event_id is not null;
  if inserted then
    if v_url is not null then
      perform wake_dispatchers_by_http(event_id);
    end if;
  else
    -- A duplicate. Without a key of the caller's, only a once-per-aggregate type can
    -- collide (the others got a random key), and on type:aggregate.
    select e.id into event_id from events_log e
    where e.idempotency_key = coalesce(p_idempotency_key, p_event_type || ':' || p_aggregate_id);
  end if;
end;
$$;
comment on function emit_event_report(text, text, uuid, uuid, jsonb, text) is
  'emit_event that also reports whether the event is new (inserted) or a duplicate of an existing idempotency key. Listeners are woken at commit.';

create or replace function emit_event(
  p_event_type text, p_aggregate_type text, p_aggregate_id uuid, p_store_id uuid,
  p_payload jsonb, p_idempotency_key text default null
)
returns uuid
language sql
security definer
set search_path = public, pg_catalog
as $$
  select event_id from emit_event_report(p_event_type, p_aggregate_type, p_aggregate_id, p_store_id, p_payload, p_idempotency_key)
$$;
comment on function emit_event(text, text, uuid, uuid, jsonb, text) is
  'THE entry point of the bus: stores an event in the caller''s transaction and wakes the dispatchers. Returns its id (the existing one for a duplicate idempotency key).';

-- Emits many events in one statement, for bulk producers. p_events is a JSON array of
-- {event_type, aggregate_type, aggregate_id, store_id?, payload?, idempotency_key?}.
-- All or nothing: one invalid element rejects the batch, naming it (events[i].field).
-- One wake-up for the whole batch (the NOTIFY at commit, the pg_net wake-up here).
create or replace function emit_events(p_events jsonb)
returns table (idx int, event_id uuid, inserted boolean)
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_bad      record;
  v_keys     text[];
  v_new_ids  uuid[];
begin
  if p_events is null or jsonb_typeof(p_events) <> 'array' then
    raise exception using errcode = '22023', message = 'events must be a JSON array', detail = 'events';
  end if;
  if jsonb_array_length(p_events) > 10000 then
    raise exception using errcode = '54000', message = format('a batch holds at most 10000 events (got %s)', jsonb_array_length(p_events)), detail = 'events';
  end if;

  -- Validate every element first; report the first bad one by its index.
  for v_bad in
    select (e.ord - 1)::int as i, e.v
    from jsonb_array_elements(p_events) with ordinality as e(v, ord)
    where jsonb_typeof(e.v) <> 'object'
       or not coalesce(event_type_is_valid(e.v ->> 'event_type'), false)
       or coalesce(e.v ->> 'aggregate_type', '') !~ '^[a-z][a-z0-9_]{0,62}$'
       or coalesce(e.v ->> 'aggregate_id', '') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$'
       or coalesce(e.v ->> 'store_id', '00000000-0000-0000-0000-000000000000') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$'
       or jsonb_typeof(coalesce(e.v -> 'payload', '{}')) <> 'object'
       or octet_length(coalesce(e.v -> 'payload', '{}')::text) > 65536
       or (e.v ? 'idempotency_key' and length(coalesce(e.v ->> 'idempotency_key', '')) not between 1 and 200)
    order by e.ord limit 1
  loop
    if jsonb_typeof(v_bad.v) <> 'object' then
      raise exception using errcode = '22023', message = format('events[%s] must be a JSON object', v_bad.i), detail = format('events[%s]', v_bad.i);
    end if;
    if coalesce(v_bad.v ->> 'aggregate_id', '') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$' then
      raise exception using errcode = '22023', message = format('events[%s].aggregate_id must be a UUID', v_bad.i), detail = format('events[%s].aggregate_id', v_bad.i);
    end if;
    if coalesce(v_bad.v ->> 'store_id', '00000000-0000-0000-0000-000000000000') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$' then
      raise exception using errcode = '22023', message = format('events[%s].store_id must be a UUID or absent', v_bad.i), detail = format('events[%s].store_id', v_bad.i);
    end if;
    perform assert_event_input(v_bad.v ->> 'event_type', v_bad.v ->> 'aggregate_type', (v_bad.v ->> 'aggregate_id')::uuid,
                               coalesce(v_bad.v -> 'payload', '{}'), v_bad.v ->> 'idempotency_key', format('events[%s].', v_bad.i));
  end loop;

  -- Keys first (default keys may be random), so that the lookup below finds every event.
  select array_agg(coalesce(e.v ->> 'idempotency_key', default_idempotency_key(e.v ->> 'event_type', (e.v ->> 'aggregate_id')::uuid)) order by e.ord)
  into v_keys
  from jsonb_array_elements(p_events) with ordinality as e(v, ord);

  with ins as (
    insert into events_log (event_type, aggregate_type, aggregate_id, store_id, payload, idempotency_key, max_retries)
    select e.v ->> 'event_type', e.v ->> 'aggregate_type', (e.v ->> 'aggregate_id')::uuid, (e.v ->> 'store_id')::uuid,
           coalesce(e.v -> 'payload', '{}'), v_keys[e.ord], (select default_max_retries from event_bus_settings)
    from jsonb_array_elements(p_events) with ordinality as e(v, ord)
    order by e.ord
    on conflict (idempotency_key) do nothing
    returning id, created_at
  ), queued as (
    insert into event_queue (event_id, due_at) select ins.id, ins.created_at from ins
  )
  select array_agg(ins.id) into v_new_ids from ins;

  if v_new_ids is not null then
    perform wake_dispatchers_by_http(v_new_ids[1]);
  end if;

  -- A new statement sees our inserts and any concurrent emitter's committed duplicate.
  -- An element is "inserted" when its event is new and it is the first element with that key.
  return query
  select (k.ord - 1)::int, e.id,
         n.id is not null and row_number() over (partition by k.key order by k.ord) = 1
  from unnest(v_keys) with ordinality as k(key, ord)
  join events_log e on e.idempotency_key = k.key
  left join unnest(v_new_ids) as n(id) on n.id = e.id
  order by k.ord;
end;
$$;
comment on function emit_events(jsonb) is
  'Batch emit_event for bulk producers: validates every element (all or nothing, the error names events[i].field), inserts in one statement, wakes once (at commit). Returns each element''s event id and whether it was new.';
