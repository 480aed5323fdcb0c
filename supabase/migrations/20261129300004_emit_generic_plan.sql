-- The single emit plans its insert once per session, not once per call (issue 17).
--
-- PL/pgSQL keeps each statement's plan in PostgreSQL's plan cache, which tries five custom
-- plans (planned for the arguments at hand) before a generic one, and keeps planning a custom
-- plan on every call while the generic plan's estimated cost is not lower. For the insert of
-- emit_event_report (the event and its queue row in one statement, twenty arguments) it never
-- is: with pg_stat_statements.track_planning on, 1,000 emits made 1,000 plans of it, 208 µs
-- of planning each, a third of the emit's time on one idle connection (PostgreSQL 17). Nothing
-- in that plan depends on the arguments (one row inserted, lookups by key), so the generic
-- plan is the one every call would get anyway. Measured: 578 -> 318 µs per emit.
--
-- emit_events (the batch) settles on its generic plans after the first five calls already.
alter function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text, timestamptz, int, text)
  set plan_cache_mode = force_generic_plan;
