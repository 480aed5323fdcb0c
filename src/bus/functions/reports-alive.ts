/**
 * An invocation that works the bus (process-event, retry-failed-events) reports itself alive
 * (src/bus/heartbeats.ts: at most once per 5 s per function and isolate) once it has done
 * its work and answered it well: a refused or failed request reports nothing, so hostile
 * input stores nothing, not even a heartbeat. Only the server's invocations count (pg_cron's
 * sweep, pg_net's wake-ups, the server's emits: what keeps the bus moving), so that no other
 * caller can make a stalled bus look attended.
 */
import type { RequestContext } from "./pipeline.ts";

export function reportsAlive<B, Q>(role: string, handle: (context: RequestContext<B, Q>) => Promise<Response>) {
  return async (context: RequestContext<B, Q>): Promise<Response> => {
    const response = await handle(context);
    const { bus, caller } = context;
    if (caller.kind === "server" && response.status < 400) await bus.heartbeats.beat(role, bus.inFlight.size);
    return response;
  };
}
