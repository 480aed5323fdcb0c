-- Flow control (issue 14), second of four: the queue's triggers. A prioritised row's
-- head start, and the ordering lines: the next event of a line is released when the one
-- ahead leaves the queue, or goes dead with on_dead_head = 'skip'. Each trigger's WHEN
-- clause keeps the rows it has nothing to do with from ever calling it.

-- A prioritised queue row's due_at is its real due time minus the priority; the real one
-- goes to not_before. Applied to every write of due_at on an unleased row (an emit, a
-- retry's backoff, a reaped lease, a release), so callers keep writing real due times.
-- The WHEN clause keeps unprioritised rows from ever calling it.
create function feyxa.queue_priority_shift()
returns trigger
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  new.not_before := new.due_at;
  new.due_at := new.due_at - make_interval(secs => new.priority);
  return new;
end;
$$;
comment on function feyxa.queue_priority_shift() is
  'Trigger: moves a prioritised queue row''s due_at earlier by its priority (seconds), keeping the real due time in not_before.';
create trigger event_queue_priority_shift
  before insert or update of due_at on feyxa.event_queue
  for each row when (new.priority <> 0 and new.locked_by is null)
  execute function feyxa.queue_priority_shift();

-- Lets the next event of each line go: called when the events ahead stop blocking them.
-- Takes the keys' locks first, in one order (emitters hold theirs until they commit), then,
-- in new statements that see what those emitters committed, releases the earliest held
-- event of every line with nothing unheld left; a line with nothing left forgets its key.
-- Set-based: complete_attempts releases a whole batch's lines in one call, the triggers
-- below one line at a time (npm run bench: one statement per line cost the ordered drain
-- a third of its speed).
create function feyxa.release_lines(p_keys text[])
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
begin
  perform 1 from ordering_keys where ordering_key = any (p_keys) order by ordering_key for update;
  with lines as (
    select k.key,
           exists (select 1 from event_queue u where u.ordering_key = k.key and not u.held) as busy,
           (select h.event_id from event_queue h where h.ordering_key = k.key and h.held
            order by h.ordering_seq limit 1) as next
    from unnest(p_keys) as k(key)
  ), released as (
    update event_queue q set held = false, due_at = greatest(now(), coalesce(e.deliver_at, now()))
    from lines l join events_log e on e.id = l.next
    where not l.busy and q.event_id = l.next
  )
  delete from ordering_keys o using lines l
  where o.ordering_key = l.key and not l.busy and l.next is null;
end;
$$;
comment on function feyxa.release_lines(text[]) is
  'Internal: for each ordering key, releases the earliest held event once nothing ahead of it is left; forgets a key whose line is empty.';

create function feyxa.queue_line_moved()
returns trigger
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  perform release_lines(array[old.ordering_key]);
  return null;
end;
$$;
comment on function feyxa.queue_line_moved() is 'Trigger: an ordered event left its line (queue row deleted, or it stopped blocking): the next one may go.';
-- complete_attempts releases the lines of the events it completes itself, all in one call,
-- and says so for the length of its delete (feyxa.lines_released_by).
create trigger event_queue_line_left
  after delete on feyxa.event_queue
  for each row when (old.ordering_key is not null
                     and current_setting('feyxa.lines_released_by', true) is distinct from 'complete_attempts')
  execute function feyxa.queue_line_moved();
-- Not `update of ordering_key`: the dead-head trigger below clears it, and a column list
-- counts only the columns an UPDATE names.
create trigger event_queue_line_unblocked
  after update on feyxa.event_queue
  for each row when (old.ordering_key is not null and new.ordering_key is null)
  execute function feyxa.queue_line_moved();

-- A head of a line that goes dead (its queue row parked at infinity, unheld) stops
-- blocking when its type says skip.
create function feyxa.queue_dead_head()
returns trigger
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  if exists (select 1 from events_log e join event_type_settings s on s.event_type = e.event_type
             where e.id = new.event_id and s.on_dead_head = 'skip') then
    new.ordering_key := null;
  end if;
  return new;
end;
$$;
comment on function feyxa.queue_dead_head() is 'Trigger: a dead head of a line whose type says on_dead_head = skip stops blocking its line.';
create trigger event_queue_dead_head
  before update of due_at on feyxa.event_queue
  for each row when (old.ordering_key is not null and new.due_at = 'infinity' and not new.held and new.locked_by is null)
  execute function feyxa.queue_dead_head();
do $$
declare
  f text;
begin
  foreach f in array array[
    'feyxa.release_lines(text[])', 'feyxa.queue_priority_shift()', 'feyxa.queue_line_moved()', 'feyxa.queue_dead_head()'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
