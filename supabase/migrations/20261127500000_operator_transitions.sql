-- The state machine of an event, third part: what an operator may do to an event. With
-- the claim functions (20261123000003) and complete_attempts (20261123000004) these are
-- the only functions that change events_log.status (tests/bus/state-machine.test.ts
-- fails on any other), and each moves event_queue with it.
--
--   retry_event    failed | dead -> failed, due now  (one more attempt; what succeeded is skipped)
--   redrive_dead   every dead event of a type (optionally one exact error) -> failed, due now
--   replay_event   completed -> pending              (runs the handlers it still owes, no other)
--   discard_event  pending | failed | dead -> discarded  (terminal: leaves the queue, never runs)
--
-- Each one takes the id of the action, chosen by its caller: the same id again changes
-- nothing and answers the first result. Each writes its audit row (monitor_actions: who,
-- what, result) in the transaction that moves the events. Called by the server (no
-- request claims, or service_role) it just acts; called as an API user it refuses anyone
-- but a marketplace admin (42501). src/bus/operator.ts offers them as library calls, and
-- the monitor's HTTP actions are those calls made as the operator.
-- Errors: 42501 not an operator, P0002 no such event, 55000 not possible in the event's
-- state, 22023 bad input (detail names the field).

-- Discarded: an operator decided the event must never run (a poison message, a test
-- event sent to production). Terminal like completed and dead, kept like dead.
alter table events_log drop constraint if exists events_log_status_check;
alter table events_log add constraint events_log_status_check
  check (status in ('pending', 'processing', 'completed', 'failed', 'dead', 'discarded')) not valid;
alter table events_log validate constraint events_log_status_check;
comment on table events_log is
  'Every event of the bus. pending -> processing -> completed, or -> failed (retried at next_retry_at) -> ... -> dead; an operator may retry, re-drive, replay or discard (see 20261127500000).';

-- The audit trail is the bus's: the library's calls are audited too, with no actor
-- (the server acted), and discard is one more kind.
alter table monitor_actions alter column actor_id drop not null;
alter table monitor_actions drop constraint if exists monitor_actions_kind_check;
alter table monitor_actions add constraint monitor_actions_kind_check
  check (kind in ('retry', 'redrive', 'replay', 'discard'));
comment on table monitor_actions is
  'Audit trail of operator actions (retry, redrive, replay, discard): actor (null when the server acted), target and result. Written only by the operator transition functions.';

-- API users (role anon or authenticated, by the role in force or the request's claims)
-- must be marketplace admins; the server is trusted.
create or replace function assert_event_operator()
returns void
language plpgsql stable
security definer
set search_path = public, pg_catalog
as $$
begin
  if current_setting('role', true) in ('anon', 'authenticated')
     or (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') in ('anon', 'authenticated') then
    perform monitor_assert_admin();
  end if;
end;
$$;
comment on function assert_event_operator() is
  'Raises 42501 when an API user (anon or authenticated) who is not a marketplace admin calls an operator transition; the server passes.';

-- Records the start of an action, or finds it already done: null for a new action (the
-- caller then does it and calls operator_finish_action), else the earlier result with
-- duplicate = true. A concurrent duplicate waits on the primary key until the first commits.
create or replace function operator_begin_action(p_action_id uuid, p_kind text, p_target jsonb)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_previous monitor_actions;
begin
  perform assert_event_operator();
  if p_action_id is null then
    raise exception using errcode = '22023', message = 'action_id is required', detail = 'action_id';
  end if;
  insert into monitor_actions (id, actor_id, actor_email, kind, target)
  values (p_action_id, auth.uid(), auth.jwt() ->> 'email', p_kind, p_target)
  on conflict (id) do nothing;
  if found then
    return null;
  end if;
  select * into v_previous from monitor_actions where id = p_action_id;
  if v_previous.kind <> p_kind or v_previous.target <> p_target then
    raise exception using errcode = '22023', detail = 'action_id',
      message = format('action %s was already used for another action (%s)', p_action_id, v_previous.kind);
  end if;
  return v_previous.result || jsonb_build_object('duplicate', true);
end;
$$;
comment on function operator_begin_action(uuid, text, jsonb) is
  'Internal to the operator transitions: checks the caller may act and records the action; returns null when new, else the earlier result marked duplicate.';

create or replace function operator_finish_action(p_action_id uuid, p_result jsonb)
returns jsonb
language sql
security definer
set search_path = public, pg_catalog
as $$
  update monitor_actions set result = p_result || jsonb_build_object('action_id', id, 'kind', kind)
  where id = p_action_id
  returning result || jsonb_build_object('duplicate', false)
$$;
comment on function operator_finish_action(uuid, jsonb) is
  'Internal to the operator transitions: stores an action''s result in its audit row and returns it.';

-- Locks the event an action is about, its queue row first (the order every writer of the
-- queue takes, so that a claim racing the action waits rather than deadlocks), or raises
-- no_data_found (P0002, answered 404).
create or replace function lock_event_for_operator(p_event_id uuid)
returns events_log
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_event events_log;
begin
  perform 1 from event_queue where event_id = p_event_id for update;
  select * into v_event from events_log where id = p_event_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('no event with id %s', p_event_id), detail = 'event_id';
  end if;
  return v_event;
end;
$$;
comment on function lock_event_for_operator(uuid) is
  'Internal to the operator transitions: locks an event (queue row, then log row); raises P0002 when there is no such event.';

-- Retry one failed or dead event now. It stays 'failed' (due now): its retry_count is
-- kept, so a dead event whose retries were spent is dead again if this attempt fails.
create or replace function retry_event(p_action_id uuid, p_event_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, 'retry', jsonb_build_object('event_id', p_event_id));
  v_status text;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  v_status := (lock_event_for_operator(p_event_id)).status;
  if v_status not in ('failed', 'dead') then
    -- Already pending, running or done (perhaps by an earlier retry): nothing to do.
    return operator_finish_action(p_action_id, jsonb_build_object('changed', false, 'status', v_status));
  end if;
  update events_log set status = 'failed', next_retry_at = now(), processed_at = null, updated_at = now()
  where id = p_event_id;
  perform enqueue_events(array[p_event_id]);
  perform wake_dispatchers(p_event_id);
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', 'failed', 'previous_status', v_status));
end;
$$;
comment on function retry_event(uuid, uuid) is
  'Operator transition: a failed or dead event becomes failed and due now, in events_log and event_queue (its next attempt skips the handlers that succeeded). Audited, idempotent per action id; no change for other statuses.';
