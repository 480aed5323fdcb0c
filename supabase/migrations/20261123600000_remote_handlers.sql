-- Remote handlers: a subscription may route to another Edge Function (seed 003's
-- handler_function) or to any HTTPS URL (seed 002's n8n webhook) instead of code in the
-- dispatcher. The handler name stays the run's identity in event_handlers_log; the
-- dispatcher delivers the event as a Standard Webhooks request (src/core/remote/), with
-- the same timeout, retry, log and skip-on-retry rules as a local handler.
--
-- Signing secrets never leave the database: the dispatcher sends the message to sign and
-- gets the signatures back (webhook_delivery_plan). They live in Supabase Vault where it
-- is installed, else in webhook_secrets, a table no API role can read.

alter table event_subscriptions
  add column if not exists target_kind text not null default 'local',
  add column if not exists target      text,
  add column if not exists secret_name text;

alter table event_subscriptions drop constraint if exists event_subscriptions_target_check;
alter table event_subscriptions add constraint event_subscriptions_target_check check (
  (target_kind = 'local' and target is null and secret_name is null)
  or (target_kind = 'function' and target ~ '^[a-z0-9][a-z0-9_-]{0,62}$')
  -- HTTPS anywhere; plain HTTP only to this machine (local development and tests).
  or (target_kind = 'url' and length(target) <= 2000 and (
        target ~ '^https://[^[:space:]/?#@]+(/[^[:space:]]*)?$'
        or target ~ '^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]{1,5})?(/[^[:space:]]*)?$'))
);
alter table event_subscriptions drop constraint if exists event_subscriptions_secret_name_check;
alter table event_subscriptions add constraint event_subscriptions_secret_name_check
  check (secret_name is null or secret_name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$');
comment on column event_subscriptions.target_kind is
  'local: code in the dispatcher; function: the Edge Function named by target; url: a webhook at target.';
comment on column event_subscriptions.secret_name is
  'The webhook_secrets name whose secrets sign deliveries (webhook-signature); null: unsigned.';

create table if not exists webhook_secrets (
  id              uuid primary key default gen_random_uuid(),
  name            text not null check (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  -- Exactly one of these: the Vault secret's id where Vault is installed, else the value.
  vault_secret_id uuid,
  secret          text check (secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$'),
  -- Null: signs every delivery. During a rotation the old secret keeps signing until then.
  retire_at       timestamptz,
  created_at      timestamptz not null default now(),
  check ((vault_secret_id is null) <> (secret is null))
);
comment on table webhook_secrets is
  'Signing secrets of outgoing webhooks, by name; several active ones during a rotation. Readable by no API role.';
create index if not exists webhook_secrets_name_idx on webhook_secrets (name, created_at desc);
alter table webhook_secrets enable row level security;
revoke all on webhook_secrets from public, anon, authenticated, service_role;

-- What each delivery answered, success or not (seed 003's module_event_logs.response).
create table if not exists webhook_deliveries (
  event_id         uuid not null,
  handler_name     text not null,
  attempt          int not null,
  status_code      int,
  response_excerpt text,
  duration_ms      int not null default 0,
  created_at       timestamptz not null default now(),
  primary key (event_id, handler_name, attempt)
);
comment on table webhook_deliveries is
  'One row per remote handler run: the HTTP status (null when no answer came) and the first 200 characters of the answer.';
alter table webhook_deliveries enable row level security;
revoke all on webhook_deliveries from anon, authenticated;
grant select on webhook_deliveries to service_role;

create or replace function add_webhook_secret(p_name text, p_secret text, p_overlap interval default interval '0')
returns uuid
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
declare
  v_id uuid := gen_random_uuid();
  v_vault_id uuid;
begin
  if p_name is null or p_name !~ '^[a-z0-9][a-z0-9_.-]{0,62}$' then
    raise exception using errcode = '22023', message = 'name must be lowercase letters, digits, _ . -', detail = 'name';
  end if;
  if p_secret is null or p_secret !~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$' then
    raise exception using errcode = '22023', message = 'secret must be whsec_ followed by at least 24 bytes in base64', detail = 'secret';
  end if;
  if p_overlap is null or p_overlap < interval '0' then
    raise exception using errcode = '22023', message = 'overlap must be a non-negative interval', detail = 'overlap';
  end if;
  update webhook_secrets set retire_at = now() + p_overlap
  where name = p_name and (retire_at is null or retire_at > now() + p_overlap);
  if to_regclass('vault.secrets') is not null then
    execute 'select vault.create_secret($1, $2, $3)' into v_vault_id
      using p_secret, 'feyxa_webhook_' || v_id, 'Feyxa outgoing webhook signing secret ' || p_name;
    insert into webhook_secrets (id, name, vault_secret_id) values (v_id, p_name, v_vault_id);
  else
    insert into webhook_secrets (id, name, secret) values (v_id, p_name, p_secret);
  end if;
  return v_id;
end;
$$;
comment on function add_webhook_secret(text, text, interval) is
  'Adds a signing secret (whsec_...) under a name, in Vault where installed; the name''s older secrets keep signing for p_overlap (a rotation), then retire. Returns the new secret''s id, never the secret.';

-- Base64 HMAC-SHA256 of a message under one whsec_ secret (the key is the base64 after the prefix).
create or replace function webhook_sign(p_secret text, p_message text)
returns text
language sql immutable strict
set search_path = public, extensions, pg_catalog
as $$
  select 'v1,' || encode(hmac(convert_to(p_message, 'UTF8'), decode(substr(p_secret, 7), 'base64'), 'sha256'), 'base64')
$$;
comment on function webhook_sign(text, text) is
  'One Standard Webhooks signature: v1,<base64 HMAC-SHA256 of the message with the whsec_ secret>.';

-- The webhook-signature header for one message under every active secret of a name,
-- newest first, space-separated (both secrets of a rotation); null when the name has none.
create or replace function webhook_signatures(p_secret_name text, p_message text)
returns text
language plpgsql
security definer
set search_path = public, extensions, pg_catalog
as $$
declare
  v_secret record;
  v_value text;
  v_signatures text[] := '{}';
begin
  for v_secret in
    select w.secret, w.vault_secret_id from webhook_secrets w
    where w.name = p_secret_name and (w.retire_at is null or w.retire_at > now())
    order by w.created_at desc
  loop
    v_value := v_secret.secret;
    if v_value is null and to_regclass('vault.decrypted_secrets') is not null then
      execute 'select decrypted_secret from vault.decrypted_secrets where id = $1' into v_value using v_secret.vault_secret_id;
    end if;
    if v_value is not null then v_signatures := v_signatures || webhook_sign(v_value, p_message); end if;
  end loop;
  return nullif(array_to_string(v_signatures, ' '), '');
end;
$$;
comment on function webhook_signatures(text, text) is
  'The webhook-signature of a message under every active secret of a name (space-separated, newest first); null when none.';

-- Where a remote handler delivers and the webhook-signature header for one message
-- ("<webhook-id>.<webhook-timestamp>.<body>"): one signature per active secret, newest
-- first, space-separated, so receivers holding either secret of a rotation accept it.
create or replace function webhook_delivery_plan(p_handler_name text, p_message text)
returns table (target_kind text, url text, signature text)
language plpgsql
security definer
set search_path = public, extensions, pg_catalog
as $$
declare
  v_sub event_subscriptions;
begin
  select * into v_sub from event_subscriptions s
  where s.handler_name = p_handler_name and s.is_active and s.target_kind <> 'local'
  order by s.created_at limit 1;
  if not found then return; end if;
  target_kind := v_sub.target_kind;
  url := case when v_sub.target_kind = 'url' then v_sub.target
              else (select rtrim(s.functions_url, '/') || '/' || v_sub.target from event_bus_settings s) end;
  signature := case when v_sub.secret_name is null then null else webhook_signatures(v_sub.secret_name, p_message) end;
  return next;
end;
$$;
comment on function webhook_delivery_plan(text, text) is
  'For a remote handler: its target kind, URL (functions_url/<name> for a function; null when functions_url is unset) and the webhook-signature of the message under every active secret. No row: no active remote subscription by that name.';

-- Records one delivery; a 410 Gone also deactivates the handler's remote subscriptions
-- (the trigger on event_subscriptions tells the dispatchers to reload their routing).
create or replace function record_webhook_delivery(
  p_event_id uuid, p_handler_name text, p_attempt int, p_status_code int, p_excerpt text, p_duration_ms int
)
returns boolean
language plpgsql
security definer
set search_path = public, pg_catalog
as $$
begin
  insert into webhook_deliveries (event_id, handler_name, attempt, status_code, response_excerpt, duration_ms)
  values (p_event_id, p_handler_name, p_attempt, p_status_code, left(p_excerpt, 200), greatest(coalesce(p_duration_ms, 0), 0))
  on conflict (event_id, handler_name, attempt) do update
    set status_code = excluded.status_code, response_excerpt = excluded.response_excerpt, duration_ms = excluded.duration_ms;
  if p_status_code = 410 then
    update event_subscriptions set is_active = false, updated_at = now()
    where handler_name = p_handler_name and target_kind <> 'local' and is_active;
    return found;
  end if;
  return false;
end;
$$;
comment on function record_webhook_delivery(uuid, text, int, int, text, int) is
  'Records a remote handler''s delivery (status, answer excerpt); on 410 deactivates its remote subscriptions and returns true.';

do $$
declare
  f regprocedure;
begin
  foreach f in array array[
    'add_webhook_secret(text,text,interval)'::regprocedure, 'webhook_sign(text,text)'::regprocedure,
    'webhook_delivery_plan(text,text)'::regprocedure, 'webhook_signatures(text,text)'::regprocedure,
    'record_webhook_delivery(uuid,text,int,int,text,int)'::regprocedure]
  loop
    execute format('revoke all on function %s from public, anon, authenticated', f);
  end loop;
  -- The dispatcher signs and records; adding a secret is for the owner (SQL console, migrations).
  grant execute on function webhook_delivery_plan(text, text), webhook_signatures(text, text),
    record_webhook_delivery(uuid, text, int, int, text, int) to service_role;
end;
$$;
