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
alter table feyxa.events_log
  add column trace_parent text
  default substring(pg_catalog.current_setting('feyxa.traceparent', true) from '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
comment on column feyxa.events_log.trace_parent is
  'The W3C traceparent of the span that emitted the event (set_config(''feyxa.traceparent'', ..., true) in the emitting transaction); null when none.';

-- What a worker gets for each event it claims: the traceparent too.
alter type feyxa.claimed_event add attribute trace_parent text;

-- As in 20261127930000, returning trace_parent as well, and in PL/pgSQL: PostgreSQL (up to
-- 17) parses and plans the statements of a SQL function it cannot inline (this one is
-- security definer, with its own search_path) on every call; with
-- pg_stat_statements.track_planning on, 50 claims made 50 plans of this update, about 0.4 ms
-- a claim (issue 17). As PL/pgSQL its statement is planned once per session and kept;
-- generic, since nothing in its plan depends on the ids given (looked up by primary key).
-- diagnose-flow: 68.5 against 70.0 µs of server CPU per drained event; more for a trickle,
-- whose claims carry a few events each.
create or replace function feyxa.lease_events(p_event_ids uuid[], p_worker text, p_lease interval)
returns setof feyxa.claimed_event
language plpgsql
security definer
set search_path = feyxa, pg_catalog
set plan_cache_mode = force_generic_plan
as $$
begin
  return query
    with leased as (
      update events_log e set
        status = 'processing', attempt = e.attempt + 1, locked_by = p_worker, locked_until = now() + p_lease,
        next_retry_at = null, first_claimed_at = coalesce(e.first_claimed_at, now()), updated_at = now()
      where e.id = any (p_event_ids) and e.status in ('pending', 'failed')
      returning e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.tenant_id, e.payload, e.idempotency_key,
                e.attempt, e.retry_count, e.max_retries, e.created_at, e.trace_parent
    ), held as (
      update event_queue q set locked_by = p_worker, due_at = now() + p_lease
      from leased l where q.event_id = any (p_event_ids) and q.event_id = l.id
    )
    -- Each column as claimed_event types it: RETURN QUERY, unlike a SQL function, does not
    -- take a domain (event_type_name, …) for its base type.
    select l.id::uuid, l.event_type::text, l.aggregate_type::text, l.aggregate_id::uuid, l.tenant_id::uuid, l.payload::jsonb,
           l.idempotency_key::text, l.attempt::int, l.retry_count::int, l.max_retries::int, l.created_at::timestamptz,
           -- a first attempt has nothing to skip: spare the lookup on the hot path
           case when l.attempt = 1 then '{}'::text[]
                else array(select h.handler_name from event_handlers_log h where h.event_id = l.id and h.status = 'success') end,
           l.trace_parent::text
    from leased l;
end;
$$;
comment on function feyxa.lease_events(uuid[], text, interval) is
  'Internal to the claim functions: starts the next attempt of row-locked events under a worker''s lease; returns them with the handlers that already succeeded and the emitter''s traceparent.';
