-- The monitor's actions: the only state transitions an operator can cause. Each one
--   * is called as the operator (role authenticated with the request's JWT claims) and
--     refuses anyone who is not a marketplace admin (42501);
--   * is idempotent: it takes the id of the action (chosen by the page per confirmed
--     click); the same id again changes nothing and answers the first result;
--   * is audited in monitor_actions in the same transaction as its effect;
--   * wakes the dispatchers, so the event runs within seconds.
--
--   retry   failed|dead -> failed, due now   (one more attempt; a dead event whose retries
--                                             were exhausted goes back to dead if it fails)
--   redrive every dead event of a type (optionally one error) -> failed, due now
--   replay  completed -> pending             (the next attempt skips every handler that
--                                             succeeded, so it runs only what is still owed)
--
-- Errors: 42501 not an admin, P0002 no such event, 55000 not possible in the event's
-- state (replaying an event that is not completed, a handler that already succeeded...).

-- Refuses callers who are not marketplace admins (auth.uid() from the request's claims).
create or replace function monitor_assert_admin()
returns void
language plpgsql stable
security definer
set search_path = public, pg_catalog
as $$
begin
  if auth.uid() is null or not is_marketplace_admin() then
    raise exception using errcode = '42501', message = 'only marketplace admins can act on events';
  end if;
end;
$$;
comment on function monitor_assert_admin() is
  'Raises insufficient_privilege (42501) unless the current request''s user is a marketplace admin.';

-- Records the start of an action, or finds it already done. Returns null for a new action
-- (the caller then does it and calls monitor_finish_action), or the earlier result with
-- duplicate = true. A concurrent duplicate waits on the primary key until the first commits.
create or replace function monitor_begin_action(p_action_id uuid, p_kind text, p_target jsonb)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_previous monitor_actions;
begin
  perform monitor_assert_admin();
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
comment on function monitor_begin_action(uuid, text, jsonb) is
  'Internal to the monitor actions: checks the caller is an admin and records the action; returns null when new, else the earlier result marked duplicate.';

create or replace function monitor_finish_action(p_action_id uuid, p_result jsonb)
returns jsonb
language sql
security definer
set search_path = public, pg_catalog
as $$
  update monitor_actions set result = p_result || jsonb_build_object('action_id', id, 'kind', kind)
  where id = p_action_id
  returning result || jsonb_build_object('duplicate', false)
$$;
comment on function monitor_finish_action(uuid, jsonb) is
  'Internal to the monitor actions: stores an action''s result in the audit row and returns it.';

-- Locks the event an action is about, or raises no_data_found (P0002, answered 404).
create or replace function monitor_lock_event(p_event_id uuid)
returns events_log
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_event events_log;
begin
  select * into v_event from events_log where id = p_event_id for update;
  if not found then
    raise exception using errcode = 'P0002', message = format('no event with id %s', p_event_id), detail = 'event_id';
  end if;
  return v_event;
end;
$$;
comment on function monitor_lock_event(uuid) is
  'Internal to the monitor actions: locks an event row for the action; raises P0002 when there is no such event.';

-- Retry one failed or dead event now.
create or replace function monitor_retry_event(p_action_id uuid, p_event_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_previous jsonb := monitor_begin_action(p_action_id, 'retry', jsonb_build_object('event_id', p_event_id));
  v_status text;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  v_status := (monitor_lock_event(p_event_id)).status;
  if v_status not in ('failed', 'dead') then
    -- Already pending, running or done (perhaps by an earlier retry): nothing to do.
    return monitor_finish_action(p_action_id, jsonb_build_object('changed', false, 'status', v_status));
  end if;
  update events_log set status = 'failed', next_retry_at = now(), processed_at = null, updated_at = now()
  where id = p_event_id;
  perform enqueue_events(array[p_event_id]);
  perform wake_dispatchers(p_event_id);
  return monitor_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', 'failed', 'previous_status', v_status));
end;
$$;
comment on function monitor_retry_event(uuid, uuid) is
  'Monitor action: makes a failed or dead event due now (audited, idempotent per action id). No change for other statuses.';

-- Re-drive the dead events of one type (and, if given, one exact error), at most p_limit
-- per call so that one click never holds millions of row locks; the answer says how
-- many are left.
create or replace function monitor_redrive_dead(p_action_id uuid, p_event_type text, p_error text default null, p_limit int default 10000)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_previous jsonb := monitor_begin_action(p_action_id, 'redrive',
    jsonb_build_object('event_type', p_event_type, 'error', p_error));
  v_moved uuid[];
  v_first uuid;
  v_count int;
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
    for update of e skip locked
  ), moved as (
    update events_log e set status = 'failed', next_retry_at = now(), processed_at = null, updated_at = now()
    from picked where e.id = picked.id
    returning e.id
  )
  select array_agg(id) into v_moved from moved;
  perform enqueue_events(v_moved);
  v_count := coalesce(cardinality(v_moved), 0);
  v_first := v_moved[1];
  select count(*) into v_remaining from event_queue q join events_log e on e.id = q.event_id
  where q.due_at = 'infinity' and q.locked_by is null
    and e.status = 'dead' and e.event_type = p_event_type and (p_error is null or e.error_message = p_error);
  if v_first is not null then
    perform wake_dispatchers(v_first);  -- one wake-up drains them all
  end if;
  return monitor_finish_action(p_action_id,
    jsonb_build_object('changed', v_count > 0, 'redriven', v_count, 'remaining', v_remaining));
end;
$$;
comment on function monitor_redrive_dead(uuid, text, text, int) is
  'Monitor action: makes up to p_limit dead events of a type (optionally with one exact error) due now; audited, idempotent per action id.';

-- Replay a completed event to a handler it never ran (a handler subscribed after it
-- completed). The event is reopened rather than copied: the next attempt skips every
-- handler with a success row, so the rule "a handler that succeeded never runs again"
-- holds, and the handler gets the original event (id, idempotency keys) rather than a
-- look-alike. The attempt runs every handler the event still owes; when that is more
-- than the chosen one, the operator must say so (p_include_owed), or it is refused.
create or replace function monitor_replay_event(p_action_id uuid, p_event_id uuid, p_handler text, p_include_owed boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_previous jsonb := monitor_begin_action(p_action_id, 'replay',
    jsonb_build_object('event_id', p_event_id, 'handler', p_handler, 'include_owed', coalesce(p_include_owed, false)));
  v_event events_log;
  v_owed text[];
begin
  if v_previous is not null then
    return v_previous;
  end if;
  v_event := monitor_lock_event(p_event_id);
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
  return monitor_finish_action(p_action_id, jsonb_build_object('changed', true, 'status', 'pending', 'will_run', to_jsonb(v_owed)));
end;
$$;
comment on function monitor_replay_event(uuid, uuid, text, boolean) is
  'Monitor action: reopens a completed event so that its next attempt runs the chosen handler (and any other handler it still owes, with p_include_owed). Audited, idempotent per action id.';

-- The routed handlers that have no success row for the event: what its next attempt runs.
-- Security invoker: called by an operator it reads the handler rows their policy shows.
create or replace function monitor_owed_handlers(p_event_id uuid, p_event_type text)
returns text[]
language sql stable
set search_path = public, pg_catalog
as $$
  select coalesce(array_agg(h order by h), '{}')
  from unnest(monitor_routed_handlers(p_event_type)) h
  where not exists (select 1 from event_handlers_log l
                    where l.event_id = p_event_id and l.handler_name = h and l.status = 'success')
$$;
comment on function monitor_owed_handlers(uuid, text) is
  'The handlers routed to the event''s type that have not succeeded for it: what its next attempt would run.';

do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and p.proname in ('monitor_assert_admin', 'monitor_begin_action', 'monitor_finish_action', 'monitor_lock_event', 'monitor_retry_event',
                        'monitor_redrive_dead', 'monitor_replay_event', 'monitor_owed_handlers')
  loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
  end loop;
end;
$$;
-- The actions are called as the operator (the audit row names auth.uid()) and check
-- for an admin themselves; the other helpers stay internal.
grant execute on function monitor_retry_event(uuid, uuid), monitor_redrive_dead(uuid, text, text, int),
  monitor_replay_event(uuid, uuid, text, boolean) to authenticated;
grant execute on function monitor_owed_handlers(uuid, text) to authenticated, service_role;
