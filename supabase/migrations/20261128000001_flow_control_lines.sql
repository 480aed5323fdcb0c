-- Flow control (issue 14), second of four: the ordering lines. The next event of a line is
-- released when the one ahead leaves the queue, or goes dead with on_dead_head = 'skip'.
-- No trigger does it: every function that takes an ordered event off the queue or kills
-- it calls these, because a row trigger of any kind on event_queue makes every update and
-- delete of the queue fetch its old row once more (npm run bench: the drain without flow
-- control paid 5-10 % for four triggers whose WHEN clauses were false).
--
-- A prioritised queue row's due_at is its real due time minus its priority (seconds); the
-- real one is in not_before. The writers of an unleased row's due_at apply it themselves
-- (emit, enqueue_events, complete_attempts, release_lines, reap_expired_leases,
-- release_events): `due - make_interval(secs => priority)`.

-- Lets the next event of each line go: called with the lines whose head (the one unheld
-- event of a line) just left the queue or stopped blocking. Takes the keys' locks first,
-- in one order (an emitter holds its key's from its upsert to its commit), then, in a new
-- statement that sees what those emitters committed, releases the earliest held event of
-- each line, due at its delivery time (kept in not_before while held) less its priority;
-- a line with nothing left forgets its key, so that a key's row exists exactly while its
-- line has events in the queue (which is how an emit knows it must wait: 20261128000002).
-- Set-based: complete_attempts releases a whole batch's lines in one call (npm run bench:
-- a statement per line cost the ordered drain a third of its speed).
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
           (select h.event_id from event_queue h where h.ordering_key = k.key and h.held
            order by h.ordering_seq limit 1) as next
    from unnest(p_keys) as k(key)
  ), released as (
    update event_queue q set held = false,
      due_at = greatest(now(), coalesce(q.not_before, now())) - make_interval(secs => q.priority),
      not_before = case when q.priority <> 0 then greatest(now(), coalesce(q.not_before, now())) end
    from lines l
    where q.event_id = l.next
  )
  delete from ordering_keys o using lines l
  where o.ordering_key = l.key and l.next is null;
end;
$$;
comment on function feyxa.release_lines(text[]) is
  'Internal: the head of each of these ordering lines has left: releases each line''s earliest held event, or forgets the key of a line left empty.';

-- Takes events off the queue for good (cancelled, discarded, or a stale row), releasing
-- the lines they were at the head of (a held event leaving changes nothing ahead of it).
create function feyxa.dequeue_events(p_event_ids uuid[])
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_lines text[];
begin
  with gone as (
    delete from event_queue q where q.event_id = any (p_event_ids) returning q.ordering_key, q.held
  )
  select array_agg(gone.ordering_key) into v_lines from gone where gone.ordering_key is not null and not gone.held;
  if v_lines is not null then
    perform release_lines(v_lines);
  end if;
end;
$$;
comment on function feyxa.dequeue_events(uuid[]) is
  'Internal: deletes the events'' queue rows and lets the next event of their ordering lines go.';

-- A dead head (its queue row parked at infinity, unheld) stops blocking its line when its
-- type says skip; with hold (the default) it blocks until an operator retries or discards it.
create function feyxa.skip_dead_heads(p_event_ids uuid[])
returns void
language plpgsql
security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_lines text[];
begin
  with skipped as (
    update event_queue q set ordering_key = null
    from events_log e join event_type_settings s on s.event_type = e.event_type
    where q.event_id = any (p_event_ids) and e.id = q.event_id
      and q.ordering_key is not null and not q.held and e.status = 'dead' and s.on_dead_head = 'skip'
    returning e.ordering_key
  )
  select array_agg(skipped.ordering_key) into v_lines from skipped;
  if v_lines is not null then
    perform release_lines(v_lines);
  end if;
end;
$$;
comment on function feyxa.skip_dead_heads(uuid[]) is
  'Internal: of the given events, the dead heads of lines whose type says on_dead_head = skip stop blocking, and the next event of each line goes.';

do $$
declare
  f text;
begin
  foreach f in array array['feyxa.release_lines(text[])', 'feyxa.dequeue_events(uuid[])', 'feyxa.skip_dead_heads(uuid[])'] loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end;
$$;
