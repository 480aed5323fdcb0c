-- The operator's verbs: what an operator may do to an event, and the audit trail of it.
--
--   retry_event    failed | dead -> failed, due now   (one more attempt; what succeeded is skipped)
--   redrive_dead   the dead events of a type (optionally one exact error) -> failed, due now
--   replay_event   completed -> pending               (runs the handlers it still owes, no other)
--   discard_event  pending | failed | dead -> discarded  (terminal: off the queue, never runs)
--   cancel_event   pending -> cancelled                (terminal, as discard)
--
-- With emit (emit.sql), the claims (claims.sql), complete_attempts (completion.sql), the
-- ordering lines' moves (flow-control.sql) and the purge (retention.sql), these are the only
-- functions that write events_log or event_queue, each moving the queue with the log
-- (tests/bus/state-machine.test.ts fails on any other). src/bus/operator.ts offers them as
-- library calls; the monitor's HTTP actions are those calls made as the signed-in operator.
--
-- Each takes the id of the action, chosen by its caller (the monitor's page: one per
-- confirmed click): the same id again changes nothing and answers the first result. Each
-- writes its audit row (monitor_actions: who, what, the result) in the transaction that
-- moves the event. Called by the server (no request claims, or service_role) it acts;
-- called as an API user it refuses anyone the application does not call an operator
-- (reader_is_operator(), reads.sql). They are security definer: API roles can neither
-- write events nor the audit trail. pause_route and resume_route (routes.sql) and the
-- bulk actions (operator-bulk.sql) are audited the same way.
--
-- Errors: 42501 not an operator, P0002 no such event (answered 404), 55000 not possible in
-- the event's state, 22023 bad input (detail names the field).

-- Every action an operator took: who, when, what, and what came of it. The id is chosen by
-- the caller for each action, so sending the same action twice (a double click, a retried
-- request) does it once and answers the first result again.
create table feyxa.monitor_actions (
  id uuid primary key,
  -- from the request's claims; null when the server acted
  actor_id uuid,
  actor_email text,
  kind text not null check (kind in ('retry', 'redrive', 'replay', 'discard', 'cancel', 'bulk_retry', 'bulk_redrive', 'bulk_discard', 'pause_route', 'resume_route')),
  target jsonb not null check (jsonb_typeof(target) = 'object'),
  result jsonb default '{}' not null check (jsonb_typeof(result) = 'object'),
  created_at timestamptz default now() not null,
  -- a bulk action's single-event rows point at the batch's row
  parent_id uuid references feyxa.monitor_actions(id)
);
alter table feyxa.monitor_actions enable row level security;
comment on table feyxa.monitor_actions is 'Audit trail of operator actions (retry, redrive, replay, discard, cancel, the bulk actions, pausing and resuming a route): actor (null when the server acted), target and result. Written only by the operator transition functions.';
comment on column feyxa.monitor_actions.parent_id is 'For the action on one event made by a bulk action (bulk_retry, bulk_redrive, bulk_discard): that batch''s audit row.';
grant all on table feyxa.monitor_actions to service_role;
grant select on table feyxa.monitor_actions to authenticated;

create index monitor_actions_created_idx on feyxa.monitor_actions (created_at desc);
create index monitor_actions_parent_idx on feyxa.monitor_actions (parent_id) where parent_id is not null;

-- API users (role anon or authenticated, by the role in force or the request's claims)
-- must be operators (monitor_assert_admin, operator-bulk.sql); the server is trusted.
create or replace function feyxa.assert_event_operator()
returns void
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if current_setting('role', true) in ('anon', 'authenticated')
     or (coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb ->> 'role') in ('anon', 'authenticated') then
    perform monitor_assert_admin();
  end if;
end;
$$;
comment on function feyxa.assert_event_operator() is 'Raises 42501 when an API user (anon or authenticated) who is not a marketplace admin calls an operator transition; the server passes.';
revoke all on function feyxa.assert_event_operator() from public;
grant execute on function feyxa.assert_event_operator() to service_role;

-- Records the start of an action, or finds it already done: null for a new action (the
-- caller then does it and calls operator_finish_action), else the earlier result with
-- duplicate = true. A concurrent duplicate waits on the primary key until the first commits.
-- The same id for another action is refused.
-- The actor comes from the request's claims, read with '' taken as none rather than through
-- auth.uid(): on a pooled connection that earlier served a signed-in user, the setting reads
-- '' after that transaction's set_config('request.jwt.claims', ..., true), which auth.uid()
-- (Supabase's too) fails to cast to jsonb. So the server acts whatever the connection served.
create or replace function feyxa.operator_begin_action(p_action_id uuid, p_kind text, p_target jsonb)
returns jsonb
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous monitor_actions;
  v_claims jsonb := coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
begin
  perform assert_event_operator();
  if p_action_id is null then
    raise exception using errcode = '22023', message = 'action_id is required', detail = 'action_id';
  end if;
  insert into monitor_actions (id, actor_id, actor_email, kind, target)
  values (p_action_id, (v_claims ->> 'sub')::uuid, v_claims ->> 'email', p_kind, p_target)
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
comment on function feyxa.operator_begin_action(uuid,text,jsonb) is 'Internal to the operator transitions: checks the caller may act and records the action (its actor from the request''s claims, none for the server, whatever the connection served before); returns null when new, else the earlier result marked duplicate.';
revoke all on function feyxa.operator_begin_action(uuid,text,jsonb) from public;
grant execute on function feyxa.operator_begin_action(uuid,text,jsonb) to service_role;

-- Stores an action's result, with its id and kind, in its audit row.
create or replace function feyxa.operator_finish_action(p_action_id uuid, p_result jsonb)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$
  update monitor_actions set result = p_result || jsonb_build_object('action_id', id, 'kind', kind)
  where id = p_action_id
  returning result || jsonb_build_object('duplicate', false)
$$;
comment on function feyxa.operator_finish_action(uuid,jsonb) is 'Internal to the operator transitions: stores an action''s result in its audit row and returns it.';
revoke all on function feyxa.operator_finish_action(uuid,jsonb) from public;
grant execute on function feyxa.operator_finish_action(uuid,jsonb) to service_role;

-- Locks the event an action is about, its queue row first (the order every writer of the
-- queue takes, so that a claim racing the action waits rather than deadlocks), or raises
-- no_data_found (P0002, answered 404).
create or replace function feyxa.lock_event_for_operator(p_event_id uuid)
returns feyxa.events_log
language plpgsql security definer
set search_path = feyxa, pg_catalog
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
comment on function feyxa.lock_event_for_operator(uuid) is 'Internal to the operator transitions: locks an event (queue row, then log row); raises P0002 when there is no such event.';
revoke all on function feyxa.lock_event_for_operator(uuid) from public;
grant execute on function feyxa.lock_event_for_operator(uuid) to service_role;

-- Retry one failed or dead event now: it becomes failed, due now, with its retry_count kept,
-- so a dead event whose retries were spent is dead again if this attempt fails.
create or replace function feyxa.retry_event(p_action_id uuid, p_event_id uuid)
returns jsonb
language plpgsql security definer
set search_path = feyxa, pg_catalog
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
comment on function feyxa.retry_event(uuid,uuid) is 'Operator transition: a failed or dead event becomes failed and due now, in events_log and event_queue (its next attempt skips the handlers that succeeded). Audited, idempotent per action id; no change for other statuses.';
revoke all on function feyxa.retry_event(uuid,uuid) from public;
grant execute on function feyxa.retry_event(uuid,uuid) to authenticated, service_role;

-- Re-drive the dead events of one type (and, if given, one exact error), at most p_limit
-- per call so that one call never holds millions of row locks; the answer says how many
-- are left.
create or replace function feyxa.redrive_dead(p_action_id uuid, p_event_type text, p_error text default null, p_limit integer default 10000)
returns jsonb
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, 'redrive',
    jsonb_build_object('event_type', p_event_type, 'error', p_error));
  v_moved uuid[];
  v_remaining int;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  if p_limit is null or p_limit not between 1 and 100000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 100000', detail = 'limit';
  end if;
  -- Dead events are the queue rows parked at 'infinity' (event_queue_due_idx).
  with picked as (
    select e.id from event_queue q join events_log e on e.id = q.event_id
    where q.due_at = 'infinity' and q.locked_by is null
      and e.status = 'dead' and e.event_type = p_event_type and (p_error is null or e.error_message = p_error)
    order by e.created_at
    limit p_limit
    for update of q, e skip locked
  ), moved as (
    update events_log e set status = 'failed', next_retry_at = now(), processed_at = null, updated_at = now()
    from picked where e.id = picked.id
    returning e.id
  )
  select array_agg(id) into v_moved from moved;
  perform enqueue_events(v_moved);
  select count(*) into v_remaining from event_queue q join events_log e on e.id = q.event_id
  where q.due_at = 'infinity' and q.locked_by is null
    and e.status = 'dead' and e.event_type = p_event_type and (p_error is null or e.error_message = p_error);
  if v_moved is not null then
    perform wake_dispatchers(v_moved[1]);  -- one wake-up drains them all
  end if;
  return operator_finish_action(p_action_id, jsonb_build_object(
    'changed', v_moved is not null, 'redriven', coalesce(cardinality(v_moved), 0), 'remaining', v_remaining));
end;
$$;
comment on function feyxa.redrive_dead(uuid,text,text,integer) is 'Operator transition: up to p_limit dead events of a type (optionally with one exact error) become failed and due now, in events_log and event_queue. Audited, idempotent per action id; answers how many moved and how many remain.';
revoke all on function feyxa.redrive_dead(uuid,text,text,integer) from public;
grant execute on function feyxa.redrive_dead(uuid,text,text,integer) to authenticated, service_role;

-- Replay a completed event to a handler it never ran (one subscribed after it completed).
-- The event is reopened rather than copied: the next attempt skips every handler with a
-- success row, so "a handler that succeeded never runs again" holds, and the handler
-- gets the original event (id, idempotency keys). The attempt runs every handler the
-- event still owes; when that is more than the chosen one, the caller must say so
-- (p_include_owed), or it is refused.
create or replace function feyxa.replay_event(p_action_id uuid, p_event_id uuid, p_handler text, p_include_owed boolean default false)
returns jsonb
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, 'replay',
    jsonb_build_object('event_id', p_event_id, 'handler', p_handler, 'include_owed', coalesce(p_include_owed, false)));
  v_event events_log;
  v_owed text[];
begin
  if v_previous is not null then
    return v_previous;
  end if;
  v_event := lock_event_for_operator(p_event_id);
  if v_event.status <> 'completed' then
    raise exception using errcode = '55000', detail = 'event_id',
      message = format('only a completed event can be replayed (this one is %s; retry a failed or dead one)', v_event.status);
  end if;
  if not p_handler = any (monitor_routed_handlers(v_event.event_type)) then
    raise exception using errcode = '55000', detail = 'handler',
      message = format('%s is not subscribed to %s: subscribe it first, the attempt runs routed handlers only', p_handler, v_event.event_type);
  end if;
  v_owed := monitor_owed_handlers(p_event_id, v_event.event_type);
  if not p_handler = any (v_owed) then
    raise exception using errcode = '55000', detail = 'handler',
      message = format('%s already succeeded for this event; the bus never runs a handler twice for one event (emit a new event instead)', p_handler);
  end if;
  if cardinality(v_owed) > 1 and not coalesce(p_include_owed, false) then
    raise exception using errcode = '55000', detail = 'include_owed',
      message = format('replaying runs every handler this event still owes: %s; confirm with include_owed', array_to_string(v_owed, ', '));
  end if;
  update events_log set status = 'pending', processed_at = null, error_message = null, updated_at = now()
  where id = p_event_id;
  perform enqueue_events(array[p_event_id]);
  perform wake_dispatchers(p_event_id);
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', 'pending', 'will_run', to_jsonb(v_owed)));
end;
$$;
comment on function feyxa.replay_event(uuid,uuid,text,boolean) is 'Operator transition: reopens a completed event (pending, queued) so that its next attempt runs the chosen handler, and any other it still owes with p_include_owed; never a handler that succeeded. Audited, idempotent per action id.';
revoke all on function feyxa.replay_event(uuid,uuid,text,boolean) from public;
grant execute on function feyxa.replay_event(uuid,uuid,text,boolean) to authenticated, service_role;

-- Cancel and discard end an event that must never run, with the reason: one transition,
-- close_event, for both. Cancel: a pending event (scheduled, held in its line, or due but
-- not yet taken). Discard: a pending, failed or dead one. Not a running one (its worker
-- would finish it regardless: wait, or discard after), not a completed one (it already ran).
create or replace function feyxa.close_event(p_action_id uuid, p_event_id uuid, p_reason text, p_kind text)
returns jsonb
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_status   text := case p_kind when 'cancel' then 'cancelled' when 'discard' then 'discarded' end;
  v_previous jsonb := operator_begin_action(p_action_id, p_kind, jsonb_build_object('event_id', p_event_id, 'reason', p_reason));
  v_event    events_log;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  if p_reason is null or length(btrim(p_reason)) not between 1 and 500 then
    raise exception using errcode = '22023', message = 'reason must be 1 to 500 characters', detail = 'reason';
  end if;
  v_event := lock_event_for_operator(p_event_id);
  if v_event.status = v_status then
    return operator_finish_action(p_action_id, jsonb_build_object('changed', false, 'status', v_status));
  end if;
  if p_kind = 'cancel' and v_event.status <> 'pending' then
    raise exception using errcode = '55000', detail = 'event_id',
      message = format('only a pending event can be cancelled (this one is %s; a failed or dead one can be discarded)', v_event.status);
  end if;
  if p_kind = 'discard' and v_event.status not in ('pending', 'failed', 'dead') then
    raise exception using errcode = '55000', detail = 'event_id',
      message = format('only a pending, failed or dead event can be discarded (this one is %s)', v_event.status);
  end if;
  update events_log set status = v_status, next_retry_at = null, processed_at = now(), updated_at = now(),
    error_message = left(case when p_kind = 'cancel' then 'cancelled: ' || btrim(p_reason)
                              else 'discarded: ' || btrim(p_reason) || coalesce(' (last error: ' || error_message || ')', '') end, 4000)
  where id = p_event_id;
  perform dequeue_events(array[p_event_id]);
  -- Off the queue and not completed: the monitor's stats count it as closed (stats.sql).
  insert into stats_closed as c (minute, event_type, closed) values (date_trunc('minute', v_event.created_at), v_event.event_type, 1)
  on conflict (minute, event_type) do update set closed = c.closed + 1;
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', v_status, 'previous_status', v_event.status));
end;
$$;
comment on function feyxa.close_event(uuid,uuid,text,text) is 'Internal to cancel_event and discard_event: ends an event that must never run (cancelled or discarded: terminal, off the queue, its line moving on), with the reason. Audited, idempotent per action id.';
revoke all on function feyxa.close_event(uuid,uuid,text,text) from public;
grant execute on function feyxa.close_event(uuid,uuid,text,text) to service_role;

-- Discard an event that must never run (a poison message, a test event sent to production),
-- through close_event: the event leaves the queue and its ordering line, letting the next
-- one go. Kept, like a dead event, with the reason.
create or replace function feyxa.discard_event(p_action_id uuid, p_event_id uuid, p_reason text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$
  select close_event(p_action_id, p_event_id, p_reason, 'discard')
$$;
comment on function feyxa.discard_event(uuid,uuid,text) is 'Operator transition: a pending, failed or dead event becomes discarded (terminal, off the queue, never run), with the reason in error_message. Audited, idempotent per action id.';
revoke all on function feyxa.discard_event(uuid,uuid,text) from public;
grant execute on function feyxa.discard_event(uuid,uuid,text) to authenticated, service_role;

-- Cancel a pending event (scheduled, held in its line, or due but not yet taken), through
-- close_event.
create or replace function feyxa.cancel_event(p_action_id uuid, p_event_id uuid, p_reason text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$
  select close_event(p_action_id, p_event_id, p_reason, 'cancel')
$$;
comment on function feyxa.cancel_event(uuid,uuid,text) is 'Operator transition: a pending event (scheduled, held or due) becomes cancelled (terminal, off the queue, never run), with the reason. Audited, idempotent per action id.';
revoke all on function feyxa.cancel_event(uuid,uuid,text) from public;
grant execute on function feyxa.cancel_event(uuid,uuid,text) to authenticated, service_role;
