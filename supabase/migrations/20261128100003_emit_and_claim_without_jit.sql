-- As 20261128100002, for the emit and the claims: on a table not analyzed yet (a new
-- project, a fresh database) the planner's guesses for the ordering line's lookup made
-- Debian's PostgreSQL 15 JIT-compile emit_event_report on every ordered emit (19 ms each,
-- npm run bench's flow rows). A function-level setting costs a few microseconds a call.
alter function feyxa.emit_event_report(text, text, uuid, uuid, jsonb, text, timestamptz, int, text) set jit = off;
alter function feyxa.claim_events(text, int, interval) set jit = off;
alter function feyxa.claim_event(uuid, text, interval) set jit = off;
