-- A claim's lease is planned once per session, not on every claim (issue 17).
--
-- lease_events was a SQL function. PostgreSQL (up to 17) parses and plans the statements of a
-- SQL function it cannot inline (this one is security definer, with its own search_path) on
-- every call: with pg_stat_statements.track_planning on, 50 claims made 50 plans of its
-- update, about 0.4 ms of parsing and planning a claim. Negligible for a claim of 200 in a
-- drain (2 µs an event), not for the claims of a trickle, which carry a few events each.
-- As PL/pgSQL its statement is planned once per session and kept; generic, since nothing in
-- its plan depends on the ids given (they are looked up by primary key).
--
-- The same statement as in 20261129300000.
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
