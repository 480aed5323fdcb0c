-- Rate limits: a token bucket per key, shared by every dispatcher (docs/flow-control.md,
-- "Rate limits"). A bucket fills at per_second tokens a second up to burst; a handler that
-- names a key (Handler.rateLimit, or its own name when a limit of that name exists; a
-- remote route by its handler name) takes a token before each run (src/bus/run-attempt.ts).
-- When the bucket is empty the handler does not run: its run is recorded 'deferred' with
-- the wait, and an attempt whose only setbacks were such waits goes back to pending, due
-- when a token is there, without spending a retry (complete_attempts, completion.sql).
--
-- The dispatchers read the keys with the routes (src/bus/router.ts), so a handler without
-- a limit asks the database nothing. A bucket is refilled lazily, by whoever takes from it
-- next, under its row lock: no timer, and the wall clock (clock_timestamp), not the
-- transaction's start, measures what has accrued.
create table feyxa.rate_limits (
  key text primary key check (length(key) between 1 and 200),
  per_second float8 not null check (per_second > 0),
  burst int not null check (burst >= 1),
  tokens float8 not null,  -- at refilled_at
  refilled_at timestamptz default clock_timestamp() not null
);
alter table feyxa.rate_limits enable row level security;
comment on table feyxa.rate_limits is 'Token buckets shared by every dispatcher: per_second tokens a second, at most burst at once. Written by configure_rate_limit and take_rate_token.';
grant all on table feyxa.rate_limits to service_role;

-- Creates, changes (tokens kept, within the new burst) or, with a null rate, removes a limit.
create or replace function feyxa.configure_rate_limit(p_key text, p_per_second float8, p_burst int default null)
returns void
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
begin
  if p_key is null or length(p_key) not between 1 and 200 then
    raise exception using errcode = '22023', message = 'key must be 1 to 200 characters', detail = 'key';
  end if;
  if p_per_second is null then
    delete from rate_limits where key = p_key;
    return;
  end if;
  if p_per_second <= 0 or p_per_second > 1e6 then
    raise exception using errcode = '22023', message = 'per_second must be above 0 and at most 1000000', detail = 'per_second';
  end if;
  if p_burst is not null and p_burst < 1 then
    raise exception using errcode = '22023', message = 'burst must be at least 1', detail = 'burst';
  end if;
  insert into rate_limits (key, per_second, burst, tokens)
  values (p_key, p_per_second, coalesce(p_burst, greatest(ceil(p_per_second)::int, 1)), coalesce(p_burst, greatest(ceil(p_per_second)::int, 1)))
  on conflict (key) do update set per_second = excluded.per_second, burst = excluded.burst,
                                  tokens = least(rate_limits.tokens, excluded.burst);
end;
$$;
comment on function feyxa.configure_rate_limit(text,double precision,integer) is 'Creates or changes a rate limit (tokens per second, burst: by default the rate rounded up); a null rate removes it.';
revoke all on function feyxa.configure_rate_limit(text,double precision,integer) from public;
grant execute on function feyxa.configure_rate_limit(text,double precision,integer) to service_role;

-- Takes one token of a bucket: 0 when taken, else the milliseconds until one is there
-- (nothing is taken then). Under the bucket's row lock: every dispatcher shares it. An
-- unknown key has no limit (0).
create or replace function feyxa.take_rate_token(p_key text)
returns double precision
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_bucket rate_limits;
  v_now    timestamptz := clock_timestamp();
  v_tokens double precision;
begin
  select * into v_bucket from rate_limits where key = p_key for update;
  if not found then
    return 0;
  end if;
  v_tokens := least(v_bucket.burst, v_bucket.tokens + extract(epoch from v_now - v_bucket.refilled_at)::double precision * v_bucket.per_second);
  if v_tokens >= 1 then
    update rate_limits set tokens = v_tokens - 1, refilled_at = v_now where key = p_key;
    return 0;
  end if;
  update rate_limits set tokens = v_tokens, refilled_at = v_now where key = p_key;
  return ceil((1 - v_tokens) / v_bucket.per_second * 1000);
end;
$$;
comment on function feyxa.take_rate_token(text) is 'Takes a token of a rate limit: 0 when taken (or when there is no such limit), else the milliseconds to wait, taking nothing.';
revoke all on function feyxa.take_rate_token(text) from public;
grant execute on function feyxa.take_rate_token(text) to service_role;
