-- Idempotency keys of the HTTP functions: a client that may send a request twice (a
-- double-click, a retry after a timeout) sends it with an `Idempotency-Key` header, and
-- every repeat gets the first request's answer instead of running again, as payment APIs
-- do (Stripe; the IETF draft "The Idempotency-Key HTTP Header Field"). The pipeline
-- (src/bus/functions/idempotency.ts) calls these functions for the routes that declare they
-- accept a key (checkout, automations, the monitor's alert rules).
--
-- A key belongs to its caller (`anon`, `user:<id>`, `server`): one caller's key never
-- meets another's. With it is kept a fingerprint of the request (function, method, path,
-- query and body), so the same key sent with another request is told apart (the HTTP answer
-- is a 422), and, once the first request has answered, that answer (status, headers, body).
-- While the first request runs, its row holds a lease (owner, locked_until), renewed as it
-- runs: a duplicate that arrives meanwhile waits and then replays the answer; a request
-- whose process died lets its lease run out, and the next duplicate runs it again. Answers
-- of 500 and above are not kept (finish with a null status forgets the key): the bus's
-- 5xx mean nothing was done, and asking again must be able to work.
--
-- Keys are kept at least 24 hours after their first use, then purged in batches by the
-- feyxa-purge-idempotency-keys job (cron.sql, every 10 minutes).

create table feyxa.idempotency_keys (
  caller text not null check (length(caller) between 1 and 100),
  key text not null check (length(key) between 1 and 255),
  -- sha-256 (hex) of the request the key was first used for
  fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
  -- while the first request runs: a token of that request, and until when it holds the key
  owner uuid,
  locked_until timestamptz,
  -- its answer, once it has one (below 500: others are not kept)
  status_code int check (status_code between 100 and 499),
  response_headers jsonb check (jsonb_typeof(response_headers) = 'object'),
  response_body text,
  created_at timestamptz default now() not null,
  completed_at timestamptz,
  primary key (caller, key),
  constraint idempotency_keys_state_check check (
    (status_code is null and owner is not null and locked_until is not null and completed_at is null)
    or (status_code is not null and owner is null and locked_until is null and completed_at is not null
        and response_headers is not null and response_body is not null))
);
alter table feyxa.idempotency_keys enable row level security;
comment on table feyxa.idempotency_keys is 'Idempotency-Key headers of the HTTP functions, per caller: the request each was first used for (fingerprint), its lease while it runs, then its answer, replayed to every repeat. Kept at least 24 hours.';
grant all on table feyxa.idempotency_keys to service_role;

-- What the purge takes, oldest first.
create index idempotency_keys_created_idx on feyxa.idempotency_keys (created_at);

-- A request with a key arrives. Returns what to do: 'run' (the caller holds the key until
-- p_lease_ms from now, as lock_owner: run the request, then idempotency_finish), 'replay'
-- (the first request's answer), 'wait' (the first request is running; ask again shortly) or
-- 'conflict' (the key was first used for another request). A key whose request's lease ran
-- out without an answer (its process died) is taken over: 'run'.
-- Concurrent duplicates meet on the primary key: the insert of all but one waits for the
-- first's (a statement, not the request), then finds its row.
create or replace function feyxa.idempotency_begin(p_caller text, p_key text, p_fingerprint text, p_lease_ms integer)
returns table (outcome text, lock_owner uuid, answer_status integer, answer_headers jsonb, answer_body text)
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_owner uuid := gen_random_uuid();
  v_row   idempotency_keys;
begin
  if p_lease_ms is null or p_lease_ms not between 1 and 600000 then
    raise exception using errcode = '22023', message = 'lease must be between 1 and 600000 ms', detail = 'lease_ms';
  end if;
  insert into idempotency_keys as k (caller, key, fingerprint, owner, locked_until)
  values (p_caller, p_key, p_fingerprint, v_owner, clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0))
  on conflict (caller, key) do update set owner = excluded.owner, locked_until = excluded.locked_until
    where k.status_code is null and k.locked_until < clock_timestamp() and k.fingerprint = excluded.fingerprint
  returning k.* into v_row;
  if found then
    return query select 'run'::text, v_owner, null::int, null::jsonb, null::text;
    return;
  end if;
  select k.* into v_row from idempotency_keys k where k.caller = p_caller and k.key = p_key;
  if not found then
    -- Forgotten in between (its request ended in a 5xx): asking again runs it.
    return query select 'wait'::text, null::uuid, null::int, null::jsonb, null::text;
  elsif v_row.fingerprint <> p_fingerprint then
    return query select 'conflict'::text, null::uuid, null::int, null::jsonb, null::text;
  elsif v_row.status_code is not null then
    return query select 'replay'::text, null::uuid, v_row.status_code, v_row.response_headers, v_row.response_body;
  else
    return query select 'wait'::text, null::uuid, null::int, null::jsonb, null::text;
  end if;
end;
$$;
comment on function feyxa.idempotency_begin(text,text,text,integer) is 'A request with an idempotency key arrives: run (the key is held for it, lock_owner), replay (the first answer), wait (the first request is running) or conflict (the key was used for another request).';
revoke all on function feyxa.idempotency_begin(text,text,text,integer) from public;
grant execute on function feyxa.idempotency_begin(text,text,text,integer) to service_role;

-- The request holding a key is still running: its lease is extended. False when it no
-- longer holds the key (its lease ran out and a duplicate took it over).
create or replace function feyxa.idempotency_renew(p_caller text, p_key text, p_owner uuid, p_lease_ms integer)
returns boolean
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  update idempotency_keys k set locked_until = clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0)
  where k.caller = p_caller and k.key = p_key and k.owner = p_owner and k.status_code is null;
  return found;
end;
$$;
comment on function feyxa.idempotency_renew(text,text,uuid,integer) is 'Extends the lease of the request holding an idempotency key; false when it no longer holds it.';
revoke all on function feyxa.idempotency_renew(text,text,uuid,integer) from public;
grant execute on function feyxa.idempotency_renew(text,text,uuid,integer) to service_role;

-- The request holding a key has answered: the answer is kept for its repeats, or, with a
-- null status (a 5xx), the key is forgotten so that asking again runs the request again.
-- False when it no longer held the key (nothing is written then).
create or replace function feyxa.idempotency_finish(p_caller text, p_key text, p_owner uuid, p_status integer, p_headers jsonb, p_body text)
returns boolean
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if p_status is null then
    delete from idempotency_keys k where k.caller = p_caller and k.key = p_key and k.owner = p_owner and k.status_code is null;
    return found;
  end if;
  if p_status not between 100 and 499 then
    raise exception using errcode = '22023', message = 'status must be between 100 and 499 (a 5xx is not kept: pass null)', detail = 'status';
  end if;
  update idempotency_keys k
  set status_code = p_status, response_headers = coalesce(p_headers, '{}'::jsonb), response_body = coalesce(p_body, ''),
      completed_at = clock_timestamp(), owner = null, locked_until = null
  where k.caller = p_caller and k.key = p_key and k.owner = p_owner and k.status_code is null;
  return found;
end;
$$;
comment on function feyxa.idempotency_finish(text,text,uuid,integer,jsonb,text) is 'Keeps the answer of the request holding an idempotency key for its repeats; a null status forgets the key (a 5xx: asking again runs again).';
revoke all on function feyxa.idempotency_finish(text,text,uuid,integer,jsonb,text) from public;
grant execute on function feyxa.idempotency_finish(text,text,uuid,integer,jsonb,text) to service_role;

-- One bounded batch of the purge: keys first used more than p_keep ago (at least 24
-- hours), answered or abandoned (lease run out), oldest first, SKIP LOCKED so it never waits
-- on a request. Returns how many it deleted: call again while it returns p_batch.
create or replace function feyxa.purge_idempotency_keys(p_batch integer default 10000, p_keep interval default interval '24 hours')
returns integer
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_purged int;
begin
  if p_batch is null or p_batch not between 1 and 100000 then
    raise exception using errcode = '22023', message = 'batch must be between 1 and 100000', detail = 'batch';
  end if;
  if p_keep is null or p_keep < interval '24 hours' then
    raise exception using errcode = '22023', message = 'keep must be at least 24 hours', detail = 'keep';
  end if;
  delete from idempotency_keys k
  using (select o.caller, o.key from idempotency_keys o
         where o.created_at < now() - p_keep and (o.status_code is not null or o.locked_until < now())
         order by o.created_at limit p_batch for update skip locked) old
  where k.caller = old.caller and k.key = old.key;
  get diagnostics v_purged = row_count;
  return v_purged;
end;
$$;
comment on function feyxa.purge_idempotency_keys(integer,interval) is 'Deletes up to p_batch idempotency keys first used more than p_keep (at least 24 hours) ago, answered or abandoned; returns how many.';
revoke all on function feyxa.purge_idempotency_keys(integer,interval) from public;
grant execute on function feyxa.purge_idempotency_keys(integer,interval) to service_role;
