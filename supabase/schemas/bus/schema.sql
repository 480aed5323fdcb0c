-- The bus's schema, `feyxa`: every table, type and function of the bus lives here, as
-- pgmq's live in `pgmq` and graphile-worker's in `graphile_worker`. Supabase's Data API
-- serves only the schemas config.toml's [api] lists (`public`, `graphql_public`), so
-- nothing here is reachable through REST or GraphQL whatever a grant says; applications
-- call the bus's functions through a database connection, and SQL and code name its
-- objects qualified (feyxa.events_log). `public` is the application's.
--
-- Vocabulary (README.md): an EVENT (events_log) is a fact that happened to an aggregate;
-- a SUBSCRIPTION (event_subscriptions) routes event types to named HANDLERS; each time a
-- worker takes an event it starts an ATTEMPT, and every handler run of an attempt leaves a
-- row in event_handlers_log; while a worker holds an event it holds a LEASE that it
-- renews; an event whose retries are spent, or that a handler refused for good, is a DEAD
-- LETTER (status 'dead'): kept, visible, never retried by itself.
--
-- Conventions of the bus's functions (supabase/schemas/bus/):
--   * a search_path pinned on the function (`feyxa, pg_catalog`; with `extensions` where
--     it signs with pgcrypto; `pg_catalog` alone where it reads no table), so that no
--     caller's search_path changes what a body resolves, and security definer where it
--     reads or writes the bus's tables. The two functions that must be inlined into a
--     caller's statement carry no search_path: event_type_is_valid (events.sql) qualifies
--     every name instead, handler_runs (completion.sql) reads nothing but its argument.
--   * execute revoked from public and granted to service_role, the server's role; a
--     signed-in user (authenticated) gets only the operator's transitions, which check
--     who calls them (operator.sql), and the reads, under row-level security (reads.sql).
--   * bad input raises invalid_parameter_value (22023), its message for people and its
--     DETAIL naming the field (`events[3].payload`), which the TypeScript side reports.
--   * settings a function's speed depends on (`jit = off`, `plan_cache_mode`) are set on
--     the function, with the reason beside it.
create schema if not exists feyxa;
comment on schema feyxa is
  'Feyxa Engine, the event bus: its tables, types and functions. Not exposed by the Data API; applications call its functions.';
revoke all on schema feyxa from public;
grant usage on schema feyxa to service_role, authenticated;

-- pgcrypto (gen_random_uuid is core; digest and hmac sign webhooks) lives in `extensions`
-- on every Supabase project.
create extension if not exists pgcrypto with schema extensions;
