-- The monitor's error fingerprints and its bulk actions (issue 15).
--
-- error_fingerprint: the shape of an error message without what makes each occurrence
-- unique (ids, numbers, quoted values), so that ten payout refusals for ten payouts are one
-- group and re-driving "this failure" means all of them. Immutable: the database groups by
-- it, and the list can filter by it.
--
-- bulk_retry, bulk_redrive, bulk_discard: an operator action over the events a filter of
-- the monitor matches, one bounded batch per call (the monitor picks the batch with the
-- list's own filter, under the caller's RLS, and calls again with the next cursor). Each
-- event goes through the single-event transition (retry_event, discard_event): no state
-- change is restated here. Each event's action is audited as when done alone, with an
-- action id derived from the batch's, and tied to the batch's audit row by parent_id.

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
comment on function feyxa.error_fingerprint(text) is
  'The shape of an error message: uuids and long hex ids become <id>, quoted values <value>, numbers <n>, runs of blanks one space (at most 500 characters). Equal fingerprints are "the same failure" in the monitor.';

-- The batches' audit rows, and the single-event rows each batch made.
alter table feyxa.monitor_actions add column if not exists parent_id uuid references feyxa.monitor_actions (id);
comment on column feyxa.monitor_actions.parent_id is
  'For the action on one event made by a bulk action (bulk_retry, bulk_redrive, bulk_discard): that batch''s audit row.';
create index if not exists monitor_actions_parent_idx on feyxa.monitor_actions (parent_id) where parent_id is not null;
alter table feyxa.monitor_actions drop constraint if exists monitor_actions_kind_check;
alter table feyxa.monitor_actions add constraint monitor_actions_kind_check
  check (kind in ('retry', 'redrive', 'replay', 'discard', 'cancel', 'bulk_retry', 'bulk_redrive', 'bulk_discard'));

-- One batch of a bulk action. p_cursor is where the batch starts in the filter's list (its
-- caller's keyset cursor, null for the first) and names the batch in the audit row, so the
-- same request sent again is the same action; p_next_cursor is stored in the result so a
-- duplicate answers the same next batch.
create or replace function feyxa.operator_bulk(p_action_id uuid, p_kind text, p_filter jsonb, p_event_ids uuid[],
                                               p_cursor text, p_next_cursor text, p_reason text)
returns jsonb
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_previous jsonb := operator_begin_action(p_action_id, 'bulk_' || p_kind,
    jsonb_build_object('filter', coalesce(p_filter, '{}'::jsonb), 'cursor', p_cursor)
      || case when p_kind = 'discard' then jsonb_build_object('reason', p_reason) else '{}'::jsonb end);
  v_event uuid;
  v_child uuid;
  v_children uuid[] := '{}';
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
comment on function feyxa.operator_bulk(uuid, text, jsonb, uuid[], text, text, text) is
  'Internal to bulk_retry, bulk_redrive and bulk_discard: one audited batch, each event through its single-event transition (own audit row, parent_id = the batch). Security definer, as the transitions: it writes the audit trail, which API roles cannot; operator_begin_action checks the caller first.';

create or replace function feyxa.bulk_retry(p_action_id uuid, p_filter jsonb, p_event_ids uuid[], p_cursor text, p_next_cursor text)
returns jsonb
language sql
security definer
set search_path = feyxa, pg_catalog
as $$ select operator_bulk(p_action_id, 'retry', p_filter, p_event_ids, p_cursor, p_next_cursor, null) $$;
comment on function feyxa.bulk_retry(uuid, jsonb, uuid[], text, text) is
  'Operator bulk action: retry_event on each event of a batch (at most 500) that a monitor filter matched; audited as a batch and per event, idempotent per action id. Security definer for the audit trail, as operator_bulk.';

create or replace function feyxa.bulk_redrive(p_action_id uuid, p_filter jsonb, p_event_ids uuid[], p_cursor text, p_next_cursor text)
returns jsonb
language sql
security definer
set search_path = feyxa, pg_catalog
as $$ select operator_bulk(p_action_id, 'redrive', p_filter, p_event_ids, p_cursor, p_next_cursor, null) $$;
comment on function feyxa.bulk_redrive(uuid, jsonb, uuid[], text, text) is
  'Operator bulk action: the dead events of a batch (at most 500) that a monitor filter matched get one more attempt now (retry_event); the others are skipped. Audited as a batch and per event, idempotent per action id. Security definer for the audit trail, as operator_bulk.';

create or replace function feyxa.bulk_discard(p_action_id uuid, p_filter jsonb, p_event_ids uuid[], p_cursor text, p_next_cursor text, p_reason text)
returns jsonb
language sql
security definer
set search_path = feyxa, pg_catalog
as $$ select operator_bulk(p_action_id, 'discard', p_filter, p_event_ids, p_cursor, p_next_cursor, p_reason) $$;
comment on function feyxa.bulk_discard(uuid, jsonb, uuid[], text, text, text) is
  'Operator bulk action: discard_event, with the reason, on each event of a batch (at most 500) that a monitor filter matched; those no longer pending, failed or dead are skipped. Audited as a batch and per event, idempotent per action id. Security definer for the audit trail, as operator_bulk.';

revoke all on function feyxa.error_fingerprint(text), feyxa.operator_bulk(uuid, text, jsonb, uuid[], text, text, text),
  feyxa.bulk_retry(uuid, jsonb, uuid[], text, text), feyxa.bulk_redrive(uuid, jsonb, uuid[], text, text),
  feyxa.bulk_discard(uuid, jsonb, uuid[], text, text, text) from public, anon, authenticated;
-- The bulk actions check their caller themselves (operator_begin_action), as the single ones;
-- the fingerprint is computed in the monitor's reads, as the signed-in user.
grant execute on function feyxa.error_fingerprint(text), feyxa.bulk_retry(uuid, jsonb, uuid[], text, text),
  feyxa.bulk_redrive(uuid, jsonb, uuid[], text, text), feyxa.bulk_discard(uuid, jsonb, uuid[], text, text, text)
  to authenticated, service_role;
