-- The operator transitions, continued (see 20261127500000): re-drive, replay, discard;
-- then the monitor's SQL actions become callers of them, and the grants.

-- Re-drive the dead events of one type (and, if given, one exact error), at most p_limit
-- per call so that one call never holds millions of row locks; the answer says how many
-- are left.
create or replace function redrive_dead(p_action_id uuid, p_event_type text, p_error text default null, p_limit int default 10000)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
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
comment on function redrive_dead(uuid, text, text, int) is
  'Operator transition: up to p_limit dead events of a type (optionally with one exact error) become failed and due now, in events_log and event_queue. Audited, idempotent per action id; answers how many moved and how many remain.';

-- Replay a completed event to a handler it never ran (one subscribed after it completed).
-- The event is reopened rather than copied: the next attempt skips every handler with a
-- success row, so "a handler that succeeded never runs again" holds, and the handler
-- gets the original event (id, idempotency keys). The attempt runs every handler the
-- event still owes; when that is more than the chosen one, the caller must say so
-- (p_include_owed), or it is refused.
create or replace function replay_event(p_action_id uuid, p_event_id uuid, p_handler text, p_include_owed boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
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
comment on function replay_event(uuid, uuid, text, boolean) is
  'Operator transition: reopens a completed event (pending, queued) so that its next attempt runs the chosen handler, and any other it still owes with p_include_owed; never a handler that succeeded. Audited, idempotent per action id.';

-- Discard an event that must never run. Not a running one (its worker would finish it
-- regardless: wait, or discard after), not a completed one (it already ran).
create or replace function discard_event(p_action_id uuid, p_event_id uuid, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, 'discard',
    jsonb_build_object('event_id', p_event_id, 'reason', p_reason));
  v_event events_log;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  if p_reason is null or length(btrim(p_reason)) not between 1 and 500 then
    raise exception using errcode = '22023', message = 'reason must be 1 to 500 characters', detail = 'reason';
  end if;
  v_event := lock_event_for_operator(p_event_id);
  if v_event.status = 'discarded' then
    return operator_finish_action(p_action_id, jsonb_build_object('changed', false, 'status', 'discarded'));
  end if;
  if v_event.status not in ('pending', 'failed', 'dead') then
    raise exception using errcode = '55000', detail = 'event_id',
      message = format('only a pending, failed or dead event can be discarded (this one is %s)', v_event.status);
  end if;
  update events_log set status = 'discarded', next_retry_at = null, processed_at = now(), updated_at = now(),
    error_message = left('discarded: ' || btrim(p_reason) || coalesce(' (last error: ' || error_message || ')', ''), 4000)
  where id = p_event_id;
  delete from event_queue where event_id = p_event_id;
  return operator_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', 'discarded', 'previous_status', v_event.status));
end;
$$;
comment on function discard_event(uuid, uuid, text) is
  'Operator transition: a pending, failed or dead event becomes discarded (terminal, off the queue, never run), with the reason in error_message. Audited, idempotent per action id.';

-- A discarded event's stale queue row (only a hand-edited log leaves one) goes like a
-- completed one's. Otherwise as in 20261123000003.
create or replace function tidy_event_queue(p_event_ids uuid[])
returns void
language sql
security definer
set search_path = public, pg_catalog
as $$
  with stale as (
    select q.event_id, e.status, e.locked_by, e.locked_until
    from event_queue q left join events_log e on e.id = q.event_id
    where q.event_id = any (p_event_ids) and q.locked_by is null
      and (e.id is null or e.status not in ('pending', 'failed'))
  ), gone as (
    delete from event_queue q using stale s
    where q.event_id = s.event_id and (s.status is null or s.status in ('completed', 'discarded'))
  )
  update event_queue q set
    due_at = case when s.status = 'dead' then 'infinity' else coalesce(s.locked_until, now()) end,
    locked_by = case when s.status = 'processing' then s.locked_by end
  from stale s where q.event_id = s.event_id and s.status in ('dead', 'processing')
$$;
comment on function tidy_event_queue(uuid[]) is
  'Internal to the claim functions: drops queue rows of completed, discarded or missing events, parks those of dead events at infinity, hands those of processing events to the reaper.';

-- The monitor's SQL actions (released in 20261123200001) stay, as callers of the transitions.
create or replace function monitor_retry_event(p_action_id uuid, p_event_id uuid)
returns jsonb language sql security definer set search_path = public, pg_catalog
as $$ select retry_event(p_action_id, p_event_id) $$;
comment on function monitor_retry_event(uuid, uuid) is 'Monitor action: retry_event, kept for SQL callers of the first release.';

create or replace function monitor_redrive_dead(p_action_id uuid, p_event_type text, p_error text default null, p_limit int default 10000)
returns jsonb language sql security definer set search_path = public, pg_catalog
as $$ select redrive_dead(p_action_id, p_event_type, p_error, p_limit) $$;
comment on function monitor_redrive_dead(uuid, text, text, int) is 'Monitor action: redrive_dead, kept for SQL callers of the first release.';

create or replace function monitor_replay_event(p_action_id uuid, p_event_id uuid, p_handler text, p_include_owed boolean default false)
returns jsonb language sql security definer set search_path = public, pg_catalog
as $$ select replay_event(p_action_id, p_event_id, p_handler, p_include_owed) $$;
comment on function monitor_replay_event(uuid, uuid, text, boolean) is 'Monitor action: replay_event, kept for SQL callers of the first release.';

-- Their former helpers are the operator_* ones now.
drop function if exists monitor_begin_action(uuid, text, jsonb);
drop function if exists monitor_finish_action(uuid, jsonb);
drop function if exists monitor_lock_event(uuid);

do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('assert_event_operator', 'operator_begin_action', 'operator_finish_action', 'lock_event_for_operator',
                        'retry_event', 'redrive_dead', 'replay_event', 'discard_event')
  loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
  end loop;
end;
$$;
-- The transitions check their caller themselves (assert_event_operator): the monitor calls
-- them as the operator, the server as itself.
grant execute on function retry_event(uuid, uuid), redrive_dead(uuid, text, text, int),
  replay_event(uuid, uuid, text, boolean), discard_event(uuid, uuid, text) to authenticated, service_role;
