/**
 * An invocation that works the bus (process-event, retry-failed-events) reports itself alive
 * (src/bus/heartbeats.ts: at most once per 5 s per function and isolate), beside its work and
 * once its input is read: a refused request reports nothing. Only the server's invocations
 * count (pg_cron's sweep, pg_net's wake-ups, the server's emits: what keeps the bus moving),
 * so that no other caller can make a stalled bus look attended.
 */
import type { RequestContext } from "./pipeline.ts";

export function reportsAlive<B, Q>(role: string, handle: (context: RequestContext<B, Q>) => Promise<Response>) {
  return (context: RequestContext<B, Q>): Promise<Response> =>
    context.caller.kind === "server"
      ? context.bus.heartbeats.during(role, context.bus.inFlight.size, () => handle(context))
      : handle(context);
}
