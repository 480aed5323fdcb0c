-- [20261123000001]
-- Settings of the bus, one row. Read by the SQL functions below; change them with UPDATE.
create table feyxa.event_bus_settings (
  id boolean default true primary key check (id),
  retry_base interval default '00:05:00'::interval not null,
  retry_factor numeric default 3 not null check (retry_factor >= (1)::numeric),
  -- Each delay is stretched by up to this fraction at random, so that events that
  -- failed together (an outage) do not all come back in the same second.
  retry_jitter numeric default 0.1 not null check ((retry_jitter >= (0)::numeric) and (retry_jitter <= (1)::numeric)),
  default_max_retries integer default 3 not null check ((default_max_retries >= 0) and (default_max_retries <= 100)),
  -- Event types emitted at most once per aggregate when the caller gives no key:
  -- their default idempotency key is `event_type:aggregate_id`. Others get a fresh key,
  -- so that a second payment.failed for the same order is not silently dropped.
  once_per_aggregate text[] default '{}'::text[] not null,
  -- Where pg_net is installed: the process-event URL that emit_event wakes. Null: no wake-up by HTTP.
  process_event_url text,
  updated_at timestamp with time zone default now() not null,
  -- [20261123000002]
  -- Where the Edge Functions live, for the HTTP wake-ups that pg_net and pg_cron send
  -- (e.g. https://<ref>.supabase.co/functions/v1). Null: no HTTP calls from the database.
  functions_url text,
  -- [20261123400000]
  -- Retention: completed events (and their handler rows) older than the
  -- retention age are purged in small batches. Failed and dead events are never purged
  -- automatically: they are work or evidence an operator still needs.
  retention interval default '30 days'::interval not null,
  -- [20261127100000]
  -- Idempotency keys outlive their events: the retention purge (20261123400000) deletes
  -- completed events, and with them the unique idempotency_key that made a re-emit of the
  -- same fact a duplicate; a buyer's re-asked order.created (key order.created:<order id>)
  -- then ran again and mailed a second confirmation. The purge now moves each key into
  -- purged_event_keys, in the same statement as the delete, and the emit functions answer a
  -- remembered key as a duplicate of the original event.
  --
  -- How long: a key is remembered until event_bus_settings.idempotency_horizon after its
  -- event was created (90 days by default), then forgotten by the purge itself, in bounded
  -- batches. The horizon counts from the first emit because that is where a producer's
  -- retries count from. 90 days is three times the 30-day retention and longer than any
  -- producer's retry we know of: the dispatcher's own retries end within hours, a webhook
  -- sender's within days (Stripe: 3), the storefront re-asks while its checkout page is
  -- open. A fact re-emitted after the horizon, once its event is purged, runs again
  -- (docs/reliability.md, "Idempotency keys and retention"). Incoming webhooks keep their
  -- provider ids forever in processed_webhooks; this is the emitters' counterpart.
  idempotency_horizon interval default '90 days'::interval not null check (idempotency_horizon >= '00:00:00'::interval),
  -- [20261127200000]
  -- Outbound URLs (issue 12, finding 9: server-side request forgery). A URL the dispatcher
  -- will call for a store owner or operator (a webhook reaction, a poll trigger, a remote
  -- handler's url target) is refused when it is saved if its host is literally not public:
  -- an IP literal in a loopback, private, link-local, CGNAT, multicast or reserved range
  -- (in any spelling the URL parser accepts: 2130706433, 0x7f.1, 0177.0.0.1), `localhost`
  -- or `*.localhost`; and plain http is refused unless allow-listed. Host names are checked
  -- where they are resolved, at each request (src/core/outbound.ts): the database cannot
  -- know what a name will resolve to. event_bus_settings.outbound_allow lists exceptions
  -- (development and tests), in FEYXA_OUTBOUND_ALLOW's syntax: host, host:port or CIDR.
  outbound_allow text[] default '{}'::text[] not null,
  -- [20261128000000]
  tenant_fairness boolean default false not null,
  -- [20261128000000]
  tenant_max_in_flight integer check (tenant_max_in_flight > 0)
);
alter table feyxa.event_bus_settings enable row level security;
comment on table feyxa.event_bus_settings is 'The bus settings (one row): retry backoff, default max retries, once-per-aggregate event types, the process-event URL for pg_net wake-ups.';
comment on column feyxa.event_bus_settings.outbound_allow is 'Hosts (host, host:port) and CIDR ranges that saved outbound URLs may name although not public, plain http included; empty: none (development and tests only).';
comment on column feyxa.event_bus_settings.tenant_fairness is 'Claims serve tenants in turn (configure_tenant_fairness).';
comment on column feyxa.event_bus_settings.tenant_max_in_flight is 'Default cap on one tenant''s events in flight across all dispatchers (null: none); tenant_limits overrides it.';
grant all on table feyxa.event_bus_settings to service_role;

insert into feyxa.event_bus_settings (id) values (true) on conflict (id) do nothing;
