-- The bus's settings: one row of event_bus_settings, read by the SQL functions that need
-- them (a subquery or a join, never cached), changed by UPDATE or by the functions named
-- below. Grouped by what reads them:
--
--   retries      retry_base, retry_factor, retry_jitter: the delay before retry n + 1 is
--                retry_base * retry_factor^n, stretched by up to retry_jitter at random
--                (5, 15, 45 minutes by default; retry_delay, completion.sql). A route may
--                carry a policy of its own (event_subscriptions, routes.sql).
--                default_max_retries: an event's max_retries when emitted.
--   keys         once_per_aggregate: the event types whose default idempotency key is
--                `event_type:aggregate_id` (default_idempotency_key, emit.sql).
--   wake-ups     functions_url: where the Edge Functions live, for the HTTP calls pg_net and
--                pg_cron send (wake.sql); null: none. process_event_url is read by nothing:
--                the wake-ups build their URL from functions_url.
--   retention    retention: completed events older than it are purged (retention.sql).
--                idempotency_horizon: how long a purged event's idempotency key is still
--                remembered (purged_event_keys), counted from the event's creation, where a
--                producer's retries count from; a re-emit within it is a duplicate of the
--                original event, a fact re-emitted after it runs again. 90 days is three
--                times the 30-day retention and longer than any producer's retry we know
--                of: the dispatcher's own end within hours, a webhook sender's within days
--                (Stripe: 3), the storefront re-asks while its checkout page is open
--                (docs/reliability.md, "Idempotency keys and retention").
--   outbound     outbound_allow: exceptions to the refusal of non-public URLs (outbound.sql,
--                src/bus/outbound.ts).
--   fairness     tenant_fairness, tenant_max_in_flight: the fair claim and its default
--                in-flight cap per tenant (claims.sql, flow-control.sql), set together by
--                configure_tenant_fairness.
--   health       health_silence, health_max_lag, health_dead_window: the bounds of the
--                health verdict (health.sql, docs/observability.md): down when no worker or
--                invocation was seen for health_silence while events are due; degraded when
--                the oldest due event has waited longer than health_max_lag, or when more
--                events went dead in the last health_dead_window than in the one before.
create table feyxa.event_bus_settings (
  id boolean default true primary key check (id),  -- the one row
  retry_base interval default '5 minutes' not null,
  retry_factor numeric default 3 not null check (retry_factor >= 1),
  -- Events that failed together (an outage) do not all come back in the same second.
  retry_jitter numeric default 0.1 not null check (retry_jitter between 0 and 1),
  default_max_retries int default 3 not null check (default_max_retries between 0 and 100),
  -- Others get a fresh key, so that a second payment.failed for one order is not
  -- silently dropped as a duplicate.
  once_per_aggregate text[] default '{}' not null,
  process_event_url text,  -- unused (see above)
  updated_at timestamptz default now() not null,
  functions_url text,  -- e.g. https://<ref>.supabase.co/functions/v1
  -- Failed and dead events are never purged by age: they are work or evidence an
  -- operator still needs.
  retention interval default '30 days' not null,
  idempotency_horizon interval default '90 days' not null check (idempotency_horizon >= '0 seconds'),
  outbound_allow text[] default '{}' not null,
  tenant_fairness boolean default false not null,
  tenant_max_in_flight int check (tenant_max_in_flight > 0),
  -- Three times the sweep's period (retry-failed-events, every 30 s), where Edge Functions
  -- are the only workers; a Node dispatcher reports every 5 s.
  health_silence interval default '90 seconds' not null check (health_silence > '0 seconds'),
  -- Twice the sweep's period: a wake-up lost on Supabase delays an event by up to 30 s.
  health_max_lag interval default '60 seconds' not null check (health_max_lag > '0 seconds'),
  health_dead_window interval default '15 minutes' not null check (health_dead_window > '0 seconds')
);
alter table feyxa.event_bus_settings enable row level security;
comment on table feyxa.event_bus_settings is 'The bus settings (one row): retry backoff, default max retries, once-per-aggregate event types, the functions URL for pg_net wake-ups and pg_cron calls, retention, outbound allow-list, fairness, the health verdict''s bounds.';
comment on column feyxa.event_bus_settings.outbound_allow is 'Hosts (host, host:port) and CIDR ranges that saved outbound URLs may name although not public, plain http included; empty: none (development and tests only).';
comment on column feyxa.event_bus_settings.tenant_fairness is 'Claims serve tenants in turn (configure_tenant_fairness).';
comment on column feyxa.event_bus_settings.tenant_max_in_flight is 'Default cap on one tenant''s events in flight across all dispatchers (null: none); tenant_limits overrides it.';
comment on column feyxa.event_bus_settings.health_silence is 'The health verdict is down when no worker or invocation has reported for this long while events are due (health.sql).';
comment on column feyxa.event_bus_settings.health_max_lag is 'The health verdict is degraded when the oldest due, unclaimed event has waited longer than this.';
comment on column feyxa.event_bus_settings.health_dead_window is 'The health verdict is degraded when more events went dead within this window than within the one before it.';
grant all on table feyxa.event_bus_settings to service_role;

insert into feyxa.event_bus_settings (id) values (true) on conflict (id) do nothing;
