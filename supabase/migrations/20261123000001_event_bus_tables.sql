-- Feyxa Engine, the event bus: its three tables and its settings.
--
-- An EVENT (events_log) is a fact that happened to an aggregate (an order, a payment...).
-- A SUBSCRIPTION (event_subscriptions) routes event types to named HANDLERS.
-- Each time a worker takes an event it starts an ATTEMPT; every handler run of an
-- attempt leaves one row in event_handlers_log.
-- While a worker holds an event it holds a LEASE (locked_by, locked_until) that it
-- renews; a lease that runs out means the worker vanished and the event is taken again.
-- An event whose retries are exhausted, or that a handler refused for good, is a
-- DEAD LETTER (status 'dead'): kept, visible, never retried by itself.

create extension if not exists pgcrypto;

-- Event types look like `order.created`: lowercase dot-separated words.
-- No `set search_path` here, unlike every other function of the bus: a function with one
-- is never inlined, and this one checks every event stored (the domain below), where a
-- real call costs several microseconds. Every name in it is schema-qualified instead, so
-- no search_path can change what it calls.
create or replace function event_type_is_valid(p_event_type text)
returns boolean
language sql immutable parallel safe
as $$
  select p_event_type operator(pg_catalog.~) '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'
         and pg_catalog.length(p_event_type) operator(pg_catalog.<=) 100
$$;
comment on function event_type_is_valid(text) is
  'True when the text is a well-formed event type such as order.created (lowercase words joined by dots, at most 100 characters).';

-- What an event is born with and never changes is checked by domains, not by CHECKs of
-- the table: PostgreSQL evaluates a table's CHECK constraints on every update of a row,
-- whatever columns the update changes, and every event is updated twice (its claim and
-- its completion); a domain's check runs only when a value is stored in the column
-- (npm run bench: the drain from 46,500 to 50,900 handler runs a second without the
-- re-checks).
do $$ begin
  create domain event_type_name as text check (event_type_is_valid(value));
exception when duplicate_object then null;
end $$;
do $$ begin
  create domain aggregate_type_name as text check (value ~ '^[a-z][a-z0-9_]{0,62}$');
exception when duplicate_object then null;
end $$;
do $$ begin
  create domain event_payload as jsonb check (jsonb_typeof(value) = 'object');
exception when duplicate_object then null;
end $$;

create table if not exists events_log (
  id               uuid primary key default gen_random_uuid(),
  event_type       event_type_name not null,
  aggregate_type   aggregate_type_name not null,
  aggregate_id     uuid not null,
  store_id         uuid,
  payload          event_payload not null default '{}',
  idempotency_key  text not null unique check (length(idempotency_key) between 1 and 200),
  status           text not null default 'pending'
                   check (status in ('pending', 'processing', 'completed', 'failed', 'dead')),
  -- attempt: how many times a worker has taken the event; retry_count: how many of
  -- those attempts failed. Dead once a failure happens with retry_count = max_retries.
  attempt          int not null default 0 check (attempt >= 0),
  retry_count      int not null default 0 check (retry_count >= 0),
  max_retries      int not null default 3 check (max_retries between 0 and 100),
  next_retry_at    timestamptz,
  error_message    text,
  -- The lease: which worker holds the event, and until when unless it renews.
  locked_by        text,
  locked_until     timestamptz,
  first_claimed_at timestamptz,
  processed_at     timestamptz,  -- when it reached completed or dead
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  check ((status = 'processing') = (locked_by is not null and locked_until is not null)),
  check (status <> 'failed' or next_retry_at is not null)
);
comment on table events_log is
  'Every event of the bus. pending -> processing -> completed, or -> failed (retried at next_retry_at) -> ... -> dead.';

-- Indexes on columns that never change after the insert, and only those: the claim and
-- the completion update an event's status, attempt, lease and times, and PostgreSQL can
-- then keep the new row version on the same page without touching any index (a HOT
-- update), provided no index covers, or is filtered on, a column the update changes.
-- What is due lives in event_queue, below. A HOT update also needs room on the row's own
-- page, and a claim or a completion updates a whole batch of rows inserted side by side,
-- so half of each page is left free for them (fillfactor 50): the drain's handler runs per
-- second went from about 34,000 at fillfactor 80 (a third of the updates HOT) to 40,000
-- (nine in ten HOT). The price is disk: the log takes up to twice the pages it would
-- packed full. An operator who prefers the disk can raise it (alter table ... set).
alter table events_log set (fillfactor = 50);
-- The monitor's filters: newest first, type, store, aggregate.
create index if not exists events_log_created_idx on events_log (created_at desc, id desc);
create index if not exists events_log_type_created_idx on events_log (event_type text_pattern_ops, created_at desc);
create index if not exists events_log_store_created_idx on events_log (store_id, created_at desc) where store_id is not null;
create index if not exists events_log_aggregate_idx on events_log (aggregate_id);

-- The open events: one row per event that is not completed (pending, processing, failed,
-- dead), gone once it completes. Workers claim from here, not from events_log: a narrow
-- table that holds only what is open stays small and hot however many millions of
-- completed events the log keeps, and its indexes absorb the churn of every claim.
-- events_log.status stays the truth; the state functions keep this table in step with it.
--   due_at: when a worker may take the event next: its creation for a new one, its
--           next_retry_at for a failed one, 'infinity' for a dead one (an operator must
--           act), and, while a worker holds it (locked_by), the end of its lease.
create table if not exists event_queue (
  event_id   uuid primary key,
  due_at     timestamptz not null,
  locked_by  text
);
comment on table event_queue is
  'Events not yet completed, and when each is due (or when its lease ends). Claims read it; events_log holds their state.';
-- What a worker may take, oldest due first; dead events wait at 'infinity'.
create index if not exists event_queue_due_idx on event_queue (due_at) where locked_by is null;
-- Leases by expiry, for the reaper.
create index if not exists event_queue_lease_idx on event_queue (due_at) where locked_by is not null;

-- The hottest table of the drain: every event writes one row per handler. Each row pays
-- for its heap tuple and its primary key, nothing more (npm run bench: the drain went from
-- about 24,000 to 36,000 handler runs a second when these costs went):
--   * the key is the run's natural identity, (event, handler, attempt), not a surrogate
--     uuid with an index of its own;
--   * event_id is not a foreign key: a per-row RI check locks the event row and costs a
--     query per handler run. complete_attempts, the one writer, refuses unknown events
--     (one lookup per event, not per run), and purge_completed_events deletes an event's
--     runs with it;
--   * time windows (the monitor, retention) read a BRIN index on created_at
--     (20261123200000), which rows appended in time order keep for almost nothing.
create table if not exists event_handlers_log (
  event_id       uuid not null,
  handler_name   text not null,
  attempt        int not null check (attempt >= 1),
  status         text not null check (status in ('success', 'failed', 'skipped')),
  duration_ms    int not null default 0 check (duration_ms >= 0),
  error_message  text,
  created_at     timestamptz not null default now(),
  -- One row per handler per attempt: a second writer for the same run is a no-op. The
  -- key also serves "which handlers already succeeded for this event" (an event has a
  -- handful of rows) and "the runs of this event" (the monitor, the purge).
  constraint event_handlers_log_pkey primary key (event_id, handler_name, attempt)
);
comment on table event_handlers_log is
  'One row per handler per attempt of an event: success, failed (with the error) or skipped (it had already succeeded).';

create table if not exists event_subscriptions (
  id            uuid primary key default gen_random_uuid(),
  -- `order.created`, `order.*` (any type under order.) or `*` (every event).
  event_pattern text not null check (event_pattern = '*' or event_pattern ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$'),
  handler_name  text not null check (handler_name ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'),
  is_active     boolean not null default true,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  unique (event_pattern, handler_name)
);
comment on table event_subscriptions is
  'Routing: an event whose type matches event_pattern is handed to handler_name (engine.handler), while is_active.';

-- Settings of the bus, one row. Read by the SQL functions below; change them with UPDATE.
create table if not exists event_bus_settings (
  id                  boolean primary key default true check (id),
  retry_base          interval not null default interval '5 minutes',
  retry_factor        numeric not null default 3 check (retry_factor >= 1),
  -- Each delay is stretched by up to this fraction at random, so that events that
  -- failed together (an outage) do not all come back in the same second.
  retry_jitter        numeric not null default 0.1 check (retry_jitter between 0 and 1),
  default_max_retries int not null default 3 check (default_max_retries between 0 and 100),
  -- Event types emitted at most once per aggregate when the caller gives no key:
  -- their default idempotency key is `event_type:aggregate_id`. Others get a fresh key,
  -- so that a second payment.failed for the same order is not silently dropped.
  once_per_aggregate  text[] not null default array[
    'order.created', 'payment.paid', 'delivery.delivered', 'delivery.confirmed', 'ticket.created'
  ],
  -- Where pg_net is installed: the process-event URL that emit_event wakes. Null: no wake-up by HTTP.
  process_event_url   text,
  updated_at          timestamptz not null default now()
);
comment on table event_bus_settings is
  'The bus settings (one row): retry backoff, default max retries, once-per-aggregate event types, the process-event URL for pg_net wake-ups.';
insert into event_bus_settings (id) values (true) on conflict (id) do nothing;
