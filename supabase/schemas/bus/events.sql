-- [20261123000001]

create table feyxa.events_log (
  id uuid default gen_random_uuid() primary key,
  event_type feyxa.event_type_name not null,
  aggregate_type feyxa.aggregate_type_name not null,
  aggregate_id uuid not null,
  tenant_id uuid,
  payload feyxa.event_payload default '{}'::jsonb not null,
  idempotency_key text not null check ((length(idempotency_key) >= 1) and (length(idempotency_key) <= 200)) unique,
  status text default 'pending' not null check (status in ('pending', 'processing', 'completed', 'failed', 'dead', 'discarded', 'cancelled')),
  -- attempt: how many times a worker has taken the event; retry_count: how many of
  -- those attempts failed. Dead once a failure happens with retry_count = max_retries.
  attempt integer default 0 not null check (attempt >= 0),
  retry_count integer default 0 not null check (retry_count >= 0),
  max_retries integer default 3 not null check ((max_retries >= 0) and (max_retries <= 100)),
  next_retry_at timestamp with time zone,
  error_message text,
  -- The lease: which worker holds the event, and until when unless it renews.
  locked_by text,
  locked_until timestamp with time zone,
  first_claimed_at timestamp with time zone,
  -- when it reached completed or dead
  processed_at timestamp with time zone,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  -- [20261128000000]
  -- What the emitter asked for, kept with the event (the monitor shows it).
  deliver_at timestamp with time zone,
  -- [20261128000000]
  priority smallint default 0 not null check ((priority >= 0) and (priority <= 1000)),
  -- [20261128000000]
  ordering_key text collate "C" check ((length(ordering_key) >= 1) and (length(ordering_key) <= 200)),
  -- [20261128000000]
  ordering_seq bigint,
  -- [20261129300000]
  -- Traces cross the database (issue 16): an event keeps the W3C traceparent of the span that
  -- emitted it, and a claim hands it back, so the attempt that runs it later, in another process,
  -- continues the emitter's trace (src/bus/telemetry/tracing.ts).
  --
  -- No emit function changes: the TypeScript emitter sets feyxa.traceparent in the emitting
  -- transaction (set_config(..., true), gone at its end) and the column's default reads it, so
  -- every insert into events_log takes it, those of SQL functions and triggers included. Outside
  -- such a transaction the setting is unset or '' and the column null: the event starts its own
  -- trace at its first attempt. A malformed value (anyone may set a custom setting) is stored as
  -- null rather than refused, since an emit must not fail over its tracing.
  --
  -- The default is a stable expression: adding the column rewrites nothing (existing rows read
  -- null), and an untraced insert pays one current_setting() call.
  trace_parent text default "substring"(current_setting('feyxa.traceparent'::text, true), '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'::text),
  constraint events_log_check check ((status = 'processing'::text) = ((locked_by is not null) and (locked_until is not null))),
  constraint events_log_check1 check ((status <> 'failed'::text) or (next_retry_at is not null))
);
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
alter table feyxa.events_log set (fillfactor=50);
alter table feyxa.events_log enable row level security;
comment on table feyxa.events_log is 'Every event of the bus. pending -> processing -> completed, or -> failed (retried at next_retry_at) -> ... -> dead; an operator may retry, re-drive, replay or discard (see 20261127500000).';
comment on column feyxa.events_log.tenant_id is 'Optional tenant (partition) key chosen by the application; the read-policy hooks reader_tenants and tenant_label interpret it.';
comment on column feyxa.events_log.deliver_at is 'When the emitter asked the event to be delivered (null: at once). Pending before then: scheduled.';
comment on column feyxa.events_log.priority is 'Head start in the claim, in seconds (0 to 1000; 0: none).';
comment on column feyxa.events_log.ordering_key is 'The line the event waits in: events of one key are handled one at a time, in ordering_seq order. Null: unordered.';
comment on column feyxa.events_log.ordering_seq is 'The event''s place in its ordering key''s line, assigned at emit under the key''s lock.';
comment on column feyxa.events_log.trace_parent is 'The W3C traceparent of the span that emitted the event (set_config(''feyxa.traceparent'', ..., true) in the emitting transaction); null when none.';
grant all on table feyxa.events_log to service_role;
grant select on table feyxa.events_log to authenticated;

-- [20261123000001]
create index events_log_aggregate_idx on feyxa.events_log (aggregate_id);

-- [20261123000001]
-- The monitor's filters: newest first, type, store, aggregate.
create index events_log_created_idx on feyxa.events_log (created_at desc, id desc);

-- [20261123000001]
create index events_log_type_created_idx on feyxa.events_log (event_type text_pattern_ops, created_at desc);

-- [20261128000000]
-- Each line's events in order, for the monitor (which event a held one waits behind). Only
-- ordered events are in it, and neither column ever changes: their updates stay HOT.
create index events_log_line_idx on feyxa.events_log (ordering_key, ordering_seq) where (ordering_key is not null);

-- [20261123100006]
-- Payment and delivery events name their order only in the payload (their aggregate is the
-- payment or the delivery). order-status, anonymous and polled, finds an order's events by
-- aggregate_id or by this reference: without this index the reference was a scan of the
-- whole log per request. Partial, so only those two aggregate types pay for it on insert.
create index events_log_order_ref_idx on feyxa.events_log ((((payload)::jsonb ->> 'order_id'::text))) where ((aggregate_type)::text in ('payment', 'delivery'));

create index events_log_tenant_created_idx on feyxa.events_log (tenant_id, created_at desc) where (tenant_id is not null);

-- [20261123000001]
-- The open events: one row per event that is not completed (pending, processing, failed,
-- dead), gone once it completes. Workers claim from here, not from events_log: a narrow
-- table that holds only what is open stays small and hot however many millions of
-- completed events the log keeps, and its indexes absorb the churn of every claim.
-- events_log.status stays the truth; the state functions keep this table in step with it.
--   due_at: when a worker may take the event next: its creation for a new one, its
--           next_retry_at for a failed one, 'infinity' for a dead one (an operator must
--           act), and, while a worker holds it (locked_by), the end of its lease.
create table feyxa.event_queue (
  event_id uuid primary key,
  due_at timestamp with time zone not null,
  locked_by text,
  -- [20261128000000]
  priority smallint default 0 not null,
  -- [20261128000000]
  not_before timestamp with time zone,
  -- [20261128000000]
  held boolean default false not null,
  -- [20261128000000]
  ordering_key text collate "C",
  -- [20261128000000]
  ordering_seq bigint,
  -- [20261128000000]
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

-- [20261123000001]
-- Leases by expiry, for the reaper.
create index event_queue_lease_idx on feyxa.event_queue (due_at) where (locked_by is not null);

-- [20261128000000]
-- Each line's held events, in order: which is next. Only held rows: a line's head (unheld)
-- is claimed, leased and completed like any event, and an entry here would cost each of
-- those updates an index insert. Keys compare bytewise (collate "C"): a line is an identity,
-- not text to sort for people, and libc's collation cost the release a tenth of its time.
create index event_queue_held_idx on feyxa.event_queue (ordering_key, ordering_seq) where held;

-- [20261123000001]
-- What a worker may take, oldest due first; dead events wait at 'infinity'.
create index event_queue_due_idx on feyxa.event_queue (due_at) where (locked_by is null);

-- [20261128000000]
-- A lane's claimable events in due order (dead and held events wait at infinity, outside it).
create index event_queue_lane_idx on feyxa.event_queue (tenant_id, due_at) where ((tenant_id is not null) and (locked_by is null) and (due_at < 'infinity'::timestamp with time zone));

-- [20261123000001]
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
create table feyxa.event_handlers_log (
  event_id uuid not null,
  handler_name text not null,
  attempt integer not null check (attempt >= 1),
  status text not null check (status in ('success', 'failed', 'skipped', 'deferred', 'waiting', 'blocked')),
  duration_ms integer default 0 not null check (duration_ms >= 0),
  error_message text,
  created_at timestamp with time zone default now() not null,
  constraint event_handlers_log_pkey primary key (event_id, handler_name, attempt)
);
alter table feyxa.event_handlers_log enable row level security;
comment on table feyxa.event_handlers_log is 'One row per handler per attempt of an event: success, failed (with the error), skipped (it had already succeeded), deferred (a rate limit''s wait), waiting (a prerequisite did not succeed in this attempt) or blocked (a prerequisite refused the event).';
grant all on table feyxa.event_handlers_log to service_role;
grant select on table feyxa.event_handlers_log to authenticated;

-- [20261123200000]
-- Indexes for the monitor's queries that the bus's own indexes do not cover.
-- Handler percentiles over a time window scan handler runs by time, all handlers at once.
-- BRIN, not B-tree: runs are appended in time order, so a block range summary finds a
-- window as well, and costs the drain (four runs per event) next to nothing to keep.
create index event_handlers_log_created_brin on feyxa.event_handlers_log using brin (created_at) with (autosummarize='on');
