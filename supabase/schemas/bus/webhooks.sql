-- Webhooks, both ways: remote handlers' deliveries out, provider events in.
--
-- Out. A route may deliver its events to an Edge Function or an HTTPS URL (routes.sql);
-- each delivery is a Standard Webhooks request made by the dispatcher
-- (src/bus/webhooks/remote-handler.ts), and its signature is made here. Signing secrets
-- never leave the database: the dispatcher sends the message to sign
-- ("<webhook-id>.<webhook-timestamp>.<body>") and gets back where to deliver and the
-- webhook-signature header (webhook_delivery_plan). The secrets live in Supabase Vault
-- where it is installed, else in webhook_secrets, a table no API role can read; a name may
-- hold several during a rotation, and a delivery is then signed by each, so a receiver
-- holding either accepts it. Every delivery's answer is recorded (webhook_deliveries); a 410
-- Gone switches the handler's remote routes off.
--
-- In. A provider retries an event until it gets a 2xx, sometimes days later, and may resend
-- it by hand weeks later, after the retention purge has deleted the bus event:
-- processed_webhooks remembers every provider event id for good, so the same event never
-- acts twice. receive_webhook does everything in one transaction: the receipt, the bus event
-- (webhook.received, keyed by the provider's event id) and the business write the provider
-- event stands for, which is the application's (the hook webhook_effect: the marketplace's
-- pays the order of a Stripe payment_intent.succeeded). The webhooks function
-- (src/bus/functions/webhooks.ts) checks the signature first and answers once all of it is
-- durable. docs/webhooks.md.

create table feyxa.webhook_secrets (
  id uuid default gen_random_uuid() primary key,
  name text not null check (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  -- exactly one of these: the Vault secret's id where Vault is installed, else the value
  vault_secret_id uuid,
  secret text check (secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$'),
  -- null: signs every delivery; during a rotation the old secret keeps signing until then
  retire_at timestamptz,
  created_at timestamptz default now() not null,
  constraint webhook_secrets_check check ((vault_secret_id is null) <> (secret is null))
);
alter table feyxa.webhook_secrets enable row level security;
comment on table feyxa.webhook_secrets is 'Signing secrets of outgoing webhooks, by name; several active ones during a rotation. Readable by no API role.';

create index webhook_secrets_name_idx on feyxa.webhook_secrets (name, created_at desc);

-- What each delivery answered, success or not.
create table feyxa.webhook_deliveries (
  event_id uuid not null,
  handler_name text not null,
  attempt int not null,
  -- null when no answer came
  status_code int,
  -- the first 200 characters of the answer
  response_excerpt text,
  duration_ms int default 0 not null,
  created_at timestamptz default now() not null,
  constraint webhook_deliveries_pkey primary key (event_id, handler_name, attempt)
);
alter table feyxa.webhook_deliveries enable row level security;
comment on table feyxa.webhook_deliveries is 'One row per remote handler run: the HTTP status (null when no answer came) and the first 200 characters of the answer.';
grant all on table feyxa.webhook_deliveries to service_role;
grant select on table feyxa.webhook_deliveries to authenticated;

-- The deliveries' time range, as the handler log's (events.sql): appended in time order, a
-- BRIN index costs almost nothing to keep. A BRIN range filled since the last summary is read
-- whole by every range scan, until VACUUM summarizes it; autosummarize has autovacuum do it as
-- soon as a range fills, so the metrics' fold (metrics.sql) reads only the recent tail.
create index webhook_deliveries_created_brin on feyxa.webhook_deliveries using brin (created_at) with (autosummarize='on');

-- A handler's deliveries by time, with their status: endpoint_failing_hours (alerts.sql) reads
-- an endpoint's last success walking back from its newest delivery, past the failures since
-- (at most one outage's worth), and the first failure after it one step forward.
create index webhook_deliveries_handler_idx on feyxa.webhook_deliveries (handler_name, created_at) include (status_code);

-- Adds a signing secret under a name; the name's older secrets keep signing for p_overlap.
create or replace function feyxa.add_webhook_secret(p_name text, p_secret text, p_overlap interval default interval '0')
returns uuid
language plpgsql security definer
set search_path = feyxa, pg_catalog
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
comment on function feyxa.add_webhook_secret(text,text,interval) is 'Adds a signing secret (whsec_...) under a name, in Vault where installed; the name''s older secrets keep signing for p_overlap (a rotation), then retire. Returns the new secret''s id, never the secret.';
revoke all on function feyxa.add_webhook_secret(text,text,interval) from public;
grant execute on function feyxa.add_webhook_secret(text,text,interval) to service_role;

-- Base64 HMAC-SHA256 of a message under one whsec_ secret (the key is the base64 after the prefix).
create or replace function feyxa.webhook_sign(p_secret text, p_message text)
returns text
language sql immutable strict
set search_path = feyxa, extensions, pg_catalog
as $$
  select 'v1,' || encode(hmac(convert_to(p_message, 'UTF8'), decode(substr(p_secret, 7), 'base64'), 'sha256'), 'base64')
$$;
comment on function feyxa.webhook_sign(text,text) is 'One Standard Webhooks signature: v1,<base64 HMAC-SHA256 of the message with the whsec_ secret>.';
revoke all on function feyxa.webhook_sign(text,text) from public;
grant execute on function feyxa.webhook_sign(text,text) to service_role;

-- The webhook-signature header for one message under every active secret of a name,
-- newest first, space-separated (both secrets of a rotation); null when the name has none.
create or replace function feyxa.webhook_signatures(p_secret_name text, p_message text)
returns text
language plpgsql security definer
set search_path = feyxa, extensions, pg_catalog
as $$
declare
  v_secret record;
  v_value text;
  v_signatures text[] := '{}'::text[];
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
comment on function feyxa.webhook_signatures(text,text) is 'The webhook-signature of a message under every active secret of a name (space-separated, newest first); null when none.';
revoke all on function feyxa.webhook_signatures(text,text) from public;
grant execute on function feyxa.webhook_signatures(text,text) to service_role;

-- Where a remote handler delivers (a function target is functions_url/<name>) and the
-- webhook-signature header for one message: what the dispatcher asks before each delivery.
create or replace function feyxa.webhook_delivery_plan(p_handler_name text, p_message text)
returns table(target_kind text, url text, signature text)
language plpgsql security definer
set search_path = feyxa, extensions, pg_catalog
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
comment on function feyxa.webhook_delivery_plan(text,text) is 'For a remote handler: its target kind, URL (functions_url/<name> for a function; null when functions_url is unset) and the webhook-signature of the message under every active secret. No row: no active remote subscription by that name.';
revoke all on function feyxa.webhook_delivery_plan(text,text) from public;
grant execute on function feyxa.webhook_delivery_plan(text,text) to service_role;

-- Records one delivery; a 410 Gone also deactivates the handler's remote routes (the trigger
-- on event_subscriptions tells the dispatchers to reload their routing).
create or replace function feyxa.record_webhook_delivery(
  p_event_id uuid, p_handler_name text, p_attempt int, p_status_code int, p_excerpt text, p_duration_ms int)
returns boolean
language plpgsql security definer
set search_path = feyxa, pg_catalog
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
comment on function feyxa.record_webhook_delivery(uuid,text,integer,integer,text,integer) is 'Records a remote handler''s delivery (status, answer excerpt); on 410 deactivates its remote subscriptions and returns true.';
revoke all on function feyxa.record_webhook_delivery(uuid,text,integer,integer,text,integer) from public;
grant execute on function feyxa.record_webhook_delivery(uuid,text,integer,integer,text,integer) to service_role;

-- Every provider event accepted, kept for good (never purged).
create table feyxa.processed_webhooks (
  source text not null check (source ~ '^[a-z][a-z0-9_-]{0,39}$'),
  provider_event_id text not null check (length(provider_event_id) between 1 and 200),
  provider_type text not null check (length(provider_type) between 1 and 200),
  event_id uuid,
  -- what the business write did: paid, already_paid, no_order, amount_mismatch, ... or none
  effect text default 'none' not null,
  received_at timestamptz default now() not null,
  constraint processed_webhooks_pkey primary key (source, provider_event_id)
);
alter table feyxa.processed_webhooks enable row level security;
comment on table feyxa.processed_webhooks is 'Every provider event accepted by the webhooks function, kept for good (never purged), so a provider retrying it changes nothing.';
grant all on table feyxa.processed_webhooks to service_role;

-- Hook: the business write a received provider event stands for, run by receive_webhook in
-- its transaction. The bus knows no provider's business: its body does nothing, and the
-- application replaces it (create or replace, same signature; the marketplace's is in
-- supabase/schemas/marketplace/bus-config.sql).
create or replace function feyxa.webhook_effect(p_source text, p_provider_type text, p_data jsonb)
returns text
language plpgsql
set search_path = feyxa, pg_catalog
as $$
begin
  return 'none';
end;
$$;
comment on function feyxa.webhook_effect(text, text, jsonb) is
  'Hook: the business write of a received provider event, run by receive_webhook in its transaction; returns a short word naming what it did (none, paid, …). The bus''s body does nothing; the application replaces it (create or replace, same signature).';
revoke all on function feyxa.webhook_effect(text, text, jsonb) from public, anon, authenticated;

-- Accepts a verified provider event once. A concurrent delivery of the same event waits on
-- the primary key for the first to commit, then finds its row: a duplicate, answered with
-- the first event id and effect.
create or replace function feyxa.receive_webhook(p_source text, p_provider_event_id text, p_provider_type text, p_data jsonb)
returns table(event_id uuid, duplicate boolean, effect text)
language plpgsql security definer
set search_path = feyxa, pg_catalog
as $$
declare
  v_key text := p_source || ':' || p_provider_event_id;
begin
  -- A concurrent delivery of the same event waits here for the first to commit, then
  -- finds its row: a duplicate.
  insert into processed_webhooks (source, provider_event_id, provider_type)
  values (p_source, p_provider_event_id, p_provider_type)
  on conflict on constraint processed_webhooks_pkey do nothing;
  if not found then
    return query select w.event_id, true, w.effect from processed_webhooks w
                 where w.source = p_source and w.provider_event_id = p_provider_event_id;
    return;
  end if;
  event_id := emit_event('webhook.received', 'webhook', md5(v_key)::uuid, null,
    jsonb_build_object('source', p_source, 'provider_event_id', p_provider_event_id,
                       'provider_type', p_provider_type, 'data', coalesce(p_data, '{}'::jsonb)),
    'webhook:' || v_key);
  effect := coalesce(webhook_effect(p_source, p_provider_type, coalesce(p_data, '{}'::jsonb)), 'none');
  update processed_webhooks w set event_id = receive_webhook.event_id, effect = receive_webhook.effect
  where w.source = p_source and w.provider_event_id = p_provider_event_id;
  duplicate := false;
  return next;
end;
$$;
comment on function feyxa.receive_webhook(text,text,text,jsonb) is 'Accepts a verified provider event once: records it, emits webhook.received keyed by the provider event id, and applies the application''s effect (feyxa.webhook_effect), in one transaction. A repeat returns the first event id with duplicate = true and does nothing.';
revoke all on function feyxa.receive_webhook(text,text,text,jsonb) from public;
grant execute on function feyxa.receive_webhook(text,text,text,jsonb) to service_role;
