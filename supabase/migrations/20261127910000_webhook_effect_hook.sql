-- The bus's webhook inbox knows no provider's business. receive_webhook records a verified
-- provider event once and emits webhook.received; what the event does besides, in the same
-- transaction (a Stripe payment marking an order paid), is the application's answer to
-- feyxa.webhook_effect, a hook in the manner of the read-policy hooks (…900001): the bus
-- defines it to do nothing, and the application replaces its body in a migration of its own.

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

create or replace function feyxa.receive_webhook(p_source text, p_provider_event_id text, p_provider_type text, p_data jsonb)
returns table (event_id uuid, duplicate boolean, effect text)
language plpgsql
security definer
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
comment on function feyxa.receive_webhook(text, text, text, jsonb) is
  'Accepts a verified provider event once: records it, emits webhook.received keyed by the provider event id, and applies the application''s effect (feyxa.webhook_effect), in one transaction. A repeat returns the first event id with duplicate = true and does nothing.';

-- Outside public, PostgreSQL's own default grants EXECUTE to PUBLIC: the hook is the bus's.
revoke all on function feyxa.webhook_effect(text, text, jsonb) from public, anon, authenticated;
