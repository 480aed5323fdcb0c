-- The monitor's side of the operator's verbs (operator.sql): who may act, what an event
-- still owes, the single-event actions under their first names, and the bulk actions.
--
-- An API caller may act when the application calls them an operator (reader_is_operator(),
-- the read-policy hook of reads.sql): monitor_assert_admin is that check, made by every
-- transition through assert_event_operator. monitor_owed_handlers tells what an event's
-- next attempt would run: replay_event asks it, the monitor's event detail shows it.
--
-- Bulk actions (bulk_retry, bulk_redrive, bulk_discard): an operator action over the events
-- a filter of the monitor matches, one bounded batch per call. The monitor picks each batch
-- with its list's own filter, as the caller under RLS, and calls again with the next cursor
-- (src/bus/functions/monitor/bulk.ts, docs/monitor.md). Each event goes through its
-- single-event transition (retry_event, discard_event): no state change is restated here.
-- Each event's action is audited as when done alone, under an action id derived from the
-- batch's, and tied to the batch's audit row by monitor_actions.parent_id. The monitor
-- groups failures by error_fingerprint, so re-driving "this failure" means all its events.

-- Refuses callers who are not operators; the user is auth.uid(), from the request's claims.
create or replace function feyxa.monitor_assert_admin()
returns void
language plpgsql stable security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if auth.uid() is null or not reader_is_operator() then
    raise exception using errcode = '42501', message = 'only operators can act on events';
  end if;
end;
$$;
comment on function feyxa.monitor_assert_admin() is 'Raises insufficient_privilege (42501) unless the current request''s user is an operator (feyxa.reader_is_operator()).';
revoke all on function feyxa.monitor_assert_admin() from public;
grant execute on function feyxa.monitor_assert_admin() to service_role;

-- The routed handlers that have no success row for the event: what its next attempt runs.
-- Security invoker: called by an operator it reads the handler rows their policy shows.
create or replace function feyxa.monitor_owed_handlers(p_event_id uuid, p_event_type text)
returns text[]
language sql stable
set search_path = feyxa, pg_catalog
as $$
  select coalesce(array_agg(h order by h), '{}')
  from unnest(monitor_routed_handlers(p_event_type)) h
  where not exists (select 1 from event_handlers_log l
                    where l.event_id = p_event_id and l.handler_name = h and l.status = 'success')
$$;
comment on function feyxa.monitor_owed_handlers(uuid,text) is 'The handlers routed to the event''s type that have not succeeded for it: what its next attempt would run.';
revoke all on function feyxa.monitor_owed_handlers(uuid,text) from public;
grant execute on function feyxa.monitor_owed_handlers(uuid,text) to authenticated, service_role;

-- The monitor's actions of the first release, under their first names, for SQL callers:
-- each is the transition of operator.sql it calls (retry_event, redrive_dead, replay_event).
create or replace function feyxa.monitor_retry_event(p_action_id uuid, p_event_id uuid)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select retry_event(p_action_id, p_event_id) $$;
comment on function feyxa.monitor_retry_event(uuid,uuid) is 'Monitor action: retry_event, kept for SQL callers of the first release.';
revoke all on function feyxa.monitor_retry_event(uuid,uuid) from public;
grant execute on function feyxa.monitor_retry_event(uuid,uuid) to authenticated, service_role;

create or replace function feyxa.monitor_redrive_dead(p_action_id uuid, p_event_type text, p_error text default null, p_limit integer default 10000)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select redrive_dead(p_action_id, p_event_type, p_error, p_limit) $$;
comment on function feyxa.monitor_redrive_dead(uuid,text,text,integer) is 'Monitor action: redrive_dead, kept for SQL callers of the first release.';
revoke all on function feyxa.monitor_redrive_dead(uuid,text,text,integer) from public;
grant execute on function feyxa.monitor_redrive_dead(uuid,text,text,integer) to authenticated, service_role;

create or replace function feyxa.monitor_replay_event(p_action_id uuid, p_event_id uuid, p_handler text, p_include_owed boolean default false)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select replay_event(p_action_id, p_event_id, p_handler, p_include_owed) $$;
comment on function feyxa.monitor_replay_event(uuid,uuid,text,boolean) is 'Monitor action: replay_event, kept for SQL callers of the first release.';
revoke all on function feyxa.monitor_replay_event(uuid,uuid,text,boolean) from public;
grant execute on function feyxa.monitor_replay_event(uuid,uuid,text,boolean) to authenticated, service_role;

-- The shape of an error message without what makes each occurrence unique (ids, numbers,
-- quoted values), so that ten payout refusals for ten payouts are one group. Unquoted words
-- stay: "out of stock: Scarf" and "out of stock: Hat" are two groups. Immutable, parallel
-- safe: the monitor groups the open failures by it and filters its list by it.
create or replace function feyxa.error_fingerprint(p_error text)
returns text
language sql immutable parallel safe
set search_path = pg_catalog
as $$
  select left(btrim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    p_error,
    '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<id>', 'g'),
    '"[^"]*"|''[^'']*''|`[^`]*`', '<value>', 'g'),
    '\m[0-9a-fA-F]{16,}\M', '<id>', 'g'),
    '[0-9]+([.,][0-9]+)*', '<n>', 'g'),
    '\s+', ' ', 'g')), 500)
$$;
comment on function feyxa.error_fingerprint(text) is 'The shape of an error message: uuids and long hex ids become <id>, quoted values <value>, numbers <n>, runs of blanks one space (at most 500 characters). Equal fingerprints are "the same failure" in the monitor.';
revoke all on function feyxa.error_fingerprint(text) from public;
grant execute on function feyxa.error_fingerprint(text) to authenticated, service_role;

-- One batch of a bulk action: at most 500 events (the monitor sends 200). p_cursor is where
-- the batch starts in the filter's list (its caller's keyset cursor, null for the first) and
-- names the batch in the audit row, so the same request sent again is the same action;
-- p_next_cursor is stored in the result so a duplicate answers the same next batch. Each
-- event's action id is md5(batch id:event id), so a batch sent again finds each event's
-- action done. An event that moved on since the batch was picked is skipped, not refused.
create or replace function feyxa.operator_bulk(
  p_action_id uuid, p_kind text, p_filter jsonb, p_event_ids uuid[], p_cursor text, p_next_cursor text, p_reason text)
returns jsonb
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, 'bulk_' || p_kind,
    jsonb_build_object('filter', coalesce(p_filter, '{}'::jsonb), 'cursor', p_cursor)
      || case when p_kind = 'discard' then jsonb_build_object('reason', p_reason) else '{}'::jsonb end);
  v_event uuid;
  v_child uuid;
  v_children uuid[] := '{}'::uuid[];
  v_result jsonb;
  v_moved int := 0;
  v_unchanged int := 0;
  v_skipped int := 0;
begin
  if v_previous is not null then
    return v_previous;
  end if;
  if p_event_ids is null or cardinality(p_event_ids) not between 1 and 500 then
    raise exception using errcode = '22023', message = 'a batch is 1 to 500 events', detail = 'event_ids';
  end if;
  if p_kind = 'discard' and (p_reason is null or length(btrim(p_reason)) not between 1 and 500) then
    raise exception using errcode = '22023', message = 'reason must be 1 to 500 characters', detail = 'reason';
  end if;
  foreach v_event in array p_event_ids loop
    continue when v_event is null;
    -- Re-drive is a retry of dead events only: one that is no longer dead is left alone.
    if p_kind = 'redrive' and not exists (select 1 from events_log where id = v_event and status = 'dead') then
      v_skipped := v_skipped + 1;
      continue;
    end if;
    v_child := md5(p_action_id::text || ':' || v_event::text)::uuid;
    begin
      v_result := case p_kind
        when 'discard' then discard_event(v_child, v_event, p_reason)
        else retry_event(v_child, v_event)
      end;
      v_children := v_children || v_child;
      if (v_result ->> 'changed')::boolean then v_moved := v_moved + 1; else v_unchanged := v_unchanged + 1; end if;
    exception when sqlstate '55000' or sqlstate 'P0002' then
      -- Moved on since the batch was picked (now running, completed, or gone): not this action's.
      v_skipped := v_skipped + 1;
    end;
  end loop;
  update monitor_actions set parent_id = p_action_id where id = any (v_children);
  return operator_finish_action(p_action_id, jsonb_build_object(
    'changed', v_moved > 0, 'moved', v_moved, 'unchanged', v_unchanged, 'skipped', v_skipped,
    'next_cursor', p_next_cursor));
end;
$$;
comment on function feyxa.operator_bulk(uuid,text,jsonb,uuid[],text,text,text) is 'Internal to bulk_retry, bulk_redrive and bulk_discard: one audited batch, each event through its single-event transition (own audit row, parent_id = the batch). Security definer, as the transitions: it writes the audit trail, which API roles cannot; operator_begin_action checks the caller first.';
revoke all on function feyxa.operator_bulk(uuid,text,jsonb,uuid[],text,text,text) from public;

-- The three bulk actions, each one batch of operator_bulk. Re-drive is a retry of the dead
-- events only; discard takes the reason every event's audit row and error_message keep.
create or replace function feyxa.bulk_retry(p_action_id uuid, p_filter jsonb, p_event_ids uuid[], p_cursor text, p_next_cursor text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select operator_bulk(p_action_id, 'retry', p_filter, p_event_ids, p_cursor, p_next_cursor, null) $$;
comment on function feyxa.bulk_retry(uuid,jsonb,uuid[],text,text) is 'Operator bulk action: retry_event on each event of a batch (at most 500) that a monitor filter matched; audited as a batch and per event, idempotent per action id. Security definer for the audit trail, as operator_bulk.';
revoke all on function feyxa.bulk_retry(uuid,jsonb,uuid[],text,text) from public;
grant execute on function feyxa.bulk_retry(uuid,jsonb,uuid[],text,text) to authenticated, service_role;

create or replace function feyxa.bulk_redrive(p_action_id uuid, p_filter jsonb, p_event_ids uuid[], p_cursor text, p_next_cursor text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select operator_bulk(p_action_id, 'redrive', p_filter, p_event_ids, p_cursor, p_next_cursor, null) $$;
comment on function feyxa.bulk_redrive(uuid,jsonb,uuid[],text,text) is 'Operator bulk action: the dead events of a batch (at most 500) that a monitor filter matched get one more attempt now (retry_event); the others are skipped. Audited as a batch and per event, idempotent per action id. Security definer for the audit trail, as operator_bulk.';
revoke all on function feyxa.bulk_redrive(uuid,jsonb,uuid[],text,text) from public;
grant execute on function feyxa.bulk_redrive(uuid,jsonb,uuid[],text,text) to authenticated, service_role;

create or replace function feyxa.bulk_discard(p_action_id uuid, p_filter jsonb, p_event_ids uuid[], p_cursor text, p_next_cursor text, p_reason text)
returns jsonb
language sql security definer
set search_path = feyxa, pg_catalog
as $$ select operator_bulk(p_action_id, 'discard', p_filter, p_event_ids, p_cursor, p_next_cursor, p_reason) $$;
comment on function feyxa.bulk_discard(uuid,jsonb,uuid[],text,text,text) is 'Operator bulk action: discard_event, with the reason, on each event of a batch (at most 500) that a monitor filter matched; those no longer pending, failed or dead are skipped. Audited as a batch and per event, idempotent per action id. Security definer for the audit trail, as operator_bulk.';
revoke all on function feyxa.bulk_discard(uuid,jsonb,uuid[],text,text,text) from public;
grant execute on function feyxa.bulk_discard(uuid,jsonb,uuid[],text,text,text) to authenticated, service_role;
