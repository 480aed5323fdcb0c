-- What an event is and where it is kept: three tables, each shaped for how it is written.
--
--   events_log          every event, the truth of its state. Written only by the bus's
--                       state functions (emit.sql, claims.sql, completion.sql, the
--                       operator's transitions in operator.sql), which keep event_queue in
--                       step, and by the retention purge (retention.sql).
--   event_queue         one narrow row per open event and when it is due: what workers
--                       claim from, never by scanning the log.
--   event_handlers_log  one row per handler run, the hottest table of the drain.
--
-- An event's life:
--
--   pending --claim--> processing --complete_attempts--> completed
--                          |                         \-> failed --(next_retry_at)--> claimed again
--                          |                         \-> dead     (retries spent, or refused for good)
--                          |--release_events--> pending         (graceful shutdown)
--                          \--lease expired--> failed / dead    (the worker vanished)
--
-- and an operator may retry, re-drive or replay an event, discard a failed or dead one
-- (discarded) or cancel a pending one (cancelled); both are terminal.
--
-- Every event is updated twice after its insert, by its claim and by its completion, and
-- the tables are built so that those updates stay cheap: what never changes is checked by
-- domains instead of table CHECKs, and indexed; what changes is never indexed, so the
-- updates are HOT (below).
--
-- An event also keeps its story: causation_id and causation_handler, the handler run that
-- emitted it, and correlation_id, the first event of the chain (all null for a root). The bus sets them
-- for its handlers: what a handler writes through ctx.sql, and the events triggers emit
-- from those writes, carry them (src/bus/story-sql.ts); HTTP emits may pass them. An
-- order's story in the monitor reads every event of a correlation by its index.
--
-- An event also keeps what its emitter asked for (deliver_at, priority, ordering_key: the
-- flow control of flow-control.sql, docs/flow-control.md) and the W3C traceparent of the
-- span that emitted it, which a claim hands back so that the attempt, later and in another
-- process, continues the emitter's trace (src/bus/telemetry/tracing.ts). No emit function
-- passes it: the TypeScript emitter sets feyxa.traceparent in the emitting transaction
-- (set_config(..., true), gone at its end) and the column's default reads it, so every
-- insert takes it, those of SQL functions and triggers included. Unset or '' outside such
-- a transaction, the column is null and the event starts its own trace at its first
-- attempt; a malformed value (anyone may set a custom setting) is stored as null rather
-- than refused, since an emit must not fail over its tracing. An untraced insert pays one
-- current_setting() call.

-- Event types look like `order.created`: lowercase dot-separated words.
-- No `set search_path` here, unlike every other function of the bus: a function with one
-- is never inlined, and this one checks every event stored (the domain below), where a
-- real call costs several microseconds. Every name in it is schema-qualified instead, so
-- no search_path can change what it calls.
create or replace function feyxa.event_type_is_valid(p_event_type text)
returns boolean
language sql immutable parallel safe
as $$
  select p_event_type operator(pg_catalog.~) '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'
         and pg_catalog.length(p_event_type) operator(pg_catalog.<=) 100
$$;
comment on function feyxa.event_type_is_valid(text) is 'True when the text is a well-formed event type such as order.created (lowercase words joined by dots, at most 100 characters).';
revoke all on function feyxa.event_type_is_valid(text) from public;
grant execute on function feyxa.event_type_is_valid(text) to service_role;

-- What an event is born with and never changes is checked by domains, not by CHECKs of
-- the table: PostgreSQL evaluates a table's CHECK constraints on every update of a row,
-- whatever columns the update changes, and every event is updated twice (its claim and
-- its completion); a domain's check runs only when a value is stored in the column
-- (npm run bench: the drain from 46,500 to 50,900 handler runs a second without the
-- re-checks).
create domain feyxa.event_type_name as text check (feyxa.event_type_is_valid(value));
create domain feyxa.aggregate_type_name as text check (value ~ '^[a-z][a-z0-9_]{0,62}$');
create domain feyxa.event_payload as jsonb check (jsonb_typeof(value) = 'object');

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
create table feyxa.events_log (
  id uuid default gen_random_uuid() primary key,
  event_type feyxa.event_type_name not null,
  aggregate_type feyxa.aggregate_type_name not null,
  aggregate_id uuid not null,
  tenant_id uuid,
  payload feyxa.event_payload default '{}' not null,
  idempotency_key text not null unique check (length(idempotency_key) between 1 and 200),
  status text default 'pending' not null
    check (status in ('pending', 'processing', 'completed', 'failed', 'dead', 'discarded', 'cancelled')),
  -- attempt: how many times a worker has taken the event; retry_count: how many of
  -- those attempts failed. Dead once a failure happens with retry_count = max_retries.
  attempt int default 0 not null check (attempt >= 0),
  retry_count int default 0 not null check (retry_count >= 0),
  max_retries int default 3 not null check (max_retries between 0 and 100),
  next_retry_at timestamptz,
  error_message text,
  -- The lease: which worker holds the event, and until when unless it renews.
  locked_by text,
  locked_until timestamptz,
  first_claimed_at timestamptz,
  processed_at timestamptz,  -- when it reached completed or dead
  created_at timestamptz default now() not null,
  updated_at timestamptz default now() not null,
  deliver_at timestamptz,
  priority smallint default 0 not null check (priority between 0 and 1000),
  ordering_key text collate "C" check (length(ordering_key) between 1 and 200),
  ordering_seq bigint,
  trace_parent text default substring(current_setting('feyxa.traceparent', true), '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'),
  -- The event's story, taken like trace_parent from the emitting transaction's settings
  -- (feyxa.causation_id, feyxa.correlation_id; a malformed one is null): the event whose
  -- handler emitted this one, that handler, and the first event of the story. All null for
  -- an event emitted outside a handler: it is its own story's root.
  causation_id uuid default (case when current_setting('feyxa.causation_id', true) ~ '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                                  then current_setting('feyxa.causation_id', true)::uuid end),
  causation_handler text default substring(current_setting('feyxa.causation_handler', true), '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'),
  correlation_id uuid default (case when current_setting('feyxa.correlation_id', true) ~ '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                                    then current_setting('feyxa.correlation_id', true)::uuid end),
  check ((status = 'processing') = (locked_by is not null and locked_until is not null)),
  check (status <> 'failed' or next_retry_at is not null)
) with (fillfactor = 50);
alter table feyxa.events_log enable row level security;
comment on table feyxa.events_log is 'Every event of the bus. pending -> processing -> completed, or -> failed (retried at next_retry_at) -> ... -> dead; an operator may retry, re-drive, replay, discard or cancel (operator.sql).';
comment on column feyxa.events_log.tenant_id is 'Optional tenant (partition) key chosen by the application; the read-policy hooks reader_tenants and tenant_label interpret it.';
comment on column feyxa.events_log.deliver_at is 'When the emitter asked the event to be delivered (null: at once). Pending before then: scheduled.';
comment on column feyxa.events_log.priority is 'Head start in the claim, in seconds (0 to 1000; 0: none).';
comment on column feyxa.events_log.ordering_key is 'The line the event waits in: events of one key are handled one at a time, in ordering_seq order. Null: unordered.';
comment on column feyxa.events_log.ordering_seq is 'The event''s place in its ordering key''s line, assigned at emit under the key''s lock.';
comment on column feyxa.events_log.causation_id is 'The event whose handler emitted this one (set_config(''feyxa.causation_id'', ..., true) in the emitting transaction, as the bus does for its handlers); null when it was emitted outside a handler.';
comment on column feyxa.events_log.causation_handler is 'The handler whose run emitted this event (with causation_id, the run); null when none.';
comment on column feyxa.events_log.correlation_id is 'The first event of this event''s story (its causation''s correlation, or the causation itself when that was a root); null for a root, which is its own story.';
comment on column feyxa.events_log.trace_parent is 'The W3C traceparent of the span that emitted the event (set_config(''feyxa.traceparent'', ..., true) in the emitting transaction); null when none.';
grant all on table feyxa.events_log to service_role;
grant select on table feyxa.events_log to authenticated;

create index events_log_aggregate_idx on feyxa.events_log (aggregate_id);

-- The monitor's filters: newest first, type, tenant, aggregate.
create index events_log_created_idx on feyxa.events_log (created_at desc, id desc);
create index events_log_type_created_idx on feyxa.events_log (event_type text_pattern_ops, created_at desc);
create index events_log_tenant_created_idx on feyxa.events_log (tenant_id, created_at desc) where tenant_id is not null;

-- Each line's events in order, for the monitor (which event a held one waits behind). Only
-- ordered events are in it, and neither column ever changes: their updates stay HOT.
create index events_log_line_idx on feyxa.events_log (ordering_key, ordering_seq) where ordering_key is not null;

-- A story, every event of it: its root by primary key, the rest by this index. Only events
-- emitted inside a handler are in it, and the column never changes: updates stay HOT.
create index events_log_correlation_idx on feyxa.events_log (correlation_id) where correlation_id is not null;

-- Payment and delivery events name their order only in the payload (their aggregate is the
-- payment or the delivery). order-status, anonymous and polled, finds an order's events by
-- aggregate_id or by this reference, which would otherwise be a scan of the whole log per
-- request. Partial, so only those two aggregate types pay for it on insert.
create index events_log_order_ref_idx on feyxa.events_log ((payload::jsonb ->> 'order_id'))
  where aggregate_type::text in ('payment', 'delivery');

-- The open events: one row per event that is not completed (pending, processing, failed,
-- dead), gone once it completes. Workers claim from here, not from events_log: a narrow
-- table that holds only what is open stays small and hot however many millions of
-- completed events the log keeps, and its indexes absorb the churn of every claim.
-- events_log.status stays the truth; the state functions keep this table in step with it.
-- It has no trigger: a row trigger of any kind on it makes every update and delete fetch
-- its old row once more (npm run bench: the drain paid 5-10 % for four triggers whose WHEN
-- clauses were false), so the functions that move its rows do everything themselves.
--
--   due_at: when a worker may take the event next: its creation (or delivery time) for a
--           new one, its next_retry_at for a failed one, 'infinity' for a dead one (an
--           operator must act) and for a held one, and, while a worker holds it
--           (locked_by), the end of its lease. A prioritised row's due_at is its real due
--           time less its priority in seconds, the real one kept in not_before; every
--           writer of an unleased row's due_at applies the shift itself
--           (`due - make_interval(secs => priority)`).
create table feyxa.event_queue (
  event_id uuid primary key,
  due_at timestamptz not null,
  locked_by text,
  priority smallint default 0 not null,  -- the event's
  not_before timestamptz,
  held boolean default false not null,
  ordering_key text collate "C",
  ordering_seq bigint,  -- the event's place in its line
  tenant_id uuid
);
alter table feyxa.event_queue enable row level security;
comment on table feyxa.event_queue is 'Events not yet completed, and when each is due (or when its lease ends). Claims read it; events_log holds their state.';
comment on column feyxa.event_queue.not_before is 'For a prioritised event, its real due time (due_at is moved earlier by its priority); for a held one, its delivery time (deliver_at) once released. Null otherwise.';
comment on column feyxa.event_queue.held is 'Waiting for the event before it in its ordering key''s line (due_at is then infinity).';
comment on column feyxa.event_queue.ordering_key is 'Set while the event blocks the later events of its key: until it leaves the queue (or goes dead, with on_dead_head = skip).';
comment on column feyxa.event_queue.tenant_id is 'The event''s lane for the fair claim (its tenant, or the nil uuid); null while fairness is off.';
grant all on table feyxa.event_queue to service_role;
grant select on table feyxa.event_queue to authenticated;

-- What a worker may take, oldest due first; dead and held events wait at 'infinity'.
create index event_queue_due_idx on feyxa.event_queue (due_at) where locked_by is null;

-- Leases by expiry, for the reaper; also where a capped lane's events in flight are
-- counted (flow-control.sql).
create index event_queue_lease_idx on feyxa.event_queue (due_at) where locked_by is not null;

-- Each line's held events, in order: which is next. Only held rows: a line's head (unheld)
-- is claimed, leased and completed like any event, and an entry here would cost each of
-- those updates an index insert. Keys compare bytewise (collate "C"): a line is an identity,
-- not text to sort for people, and libc's collation cost the release a tenth of its time.
create index event_queue_held_idx on feyxa.event_queue (ordering_key, ordering_seq) where held;

-- A lane's claimable events in due order (dead and held events wait at infinity, outside
-- it). Only rows with a lane: the bus pays for it only while fairness is on.
create index event_queue_lane_idx on feyxa.event_queue (tenant_id, due_at)
  where tenant_id is not null and locked_by is null and due_at < 'infinity';

-- The hottest table of the drain: every event writes one row per handler. Each row pays
-- for its heap tuple and its primary key, nothing more (npm run bench: the drain went from
-- about 24,000 to 36,000 handler runs a second when these costs went):
--   * the key is the run's natural identity, (event, handler, attempt), not a surrogate
--     uuid with an index of its own;
--   * event_id is not a foreign key: a per-row RI check locks the event row and costs a
--     query per handler run. complete_attempts, the one writer, refuses unknown events
--     (one lookup per event, not per run), and purge_completed_events deletes an event's
--     runs with it;
--   * time windows (the monitor, retention) read a BRIN index on created_at, which rows
--     appended in time order keep for almost nothing.
create table feyxa.event_handlers_log (
  event_id uuid not null,
  handler_name text not null,
  attempt int not null check (attempt >= 1),
  status text not null check (status in ('success', 'failed', 'skipped', 'deferred', 'waiting', 'blocked')),
  duration_ms int default 0 not null check (duration_ms >= 0),
  error_message text,
  created_at timestamptz default now() not null,
  primary key (event_id, handler_name, attempt)
);
alter table feyxa.event_handlers_log enable row level security;
comment on table feyxa.event_handlers_log is 'One row per handler per attempt of an event: success, failed (with the error), skipped (it had already succeeded), deferred (a rate limit''s wait), waiting (a prerequisite did not succeed in this attempt) or blocked (a prerequisite refused the event).';
grant all on table feyxa.event_handlers_log to service_role;
grant select on table feyxa.event_handlers_log to authenticated;

-- Handler percentiles over a time window scan handler runs by time, all handlers at once.
-- BRIN, not B-tree: runs are appended in time order, so a block range summary finds a
-- window as well, and costs the drain (four runs per event) next to nothing to keep.
create index event_handlers_log_created_brin on feyxa.event_handlers_log using brin (created_at) with (autosummarize = on);
