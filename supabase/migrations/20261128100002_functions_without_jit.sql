-- Functions whose statements the planner overestimates (set-returning functions over their
-- JSON arguments count 100 rows each; a recursive walk over them, millions) must not pay
-- for JIT compilation: on a server built with LLVM (Debian's PostgreSQL 15; jit is on by
-- default) sync_routes spent 400 ms compiling a cycle check that runs on nothing, on every
-- change of an automation. None of these runs long enough for JIT to pay off.
alter function feyxa.sync_routes(text, jsonb) set jit = off;
alter function feyxa.fair_claimable(int) set jit = off;
alter function feyxa.complete_attempts(text, jsonb) set jit = off;
alter function feyxa.emit_events(jsonb) set jit = off;
