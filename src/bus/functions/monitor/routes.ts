/**
 * The routes view: every route (event_subscriptions) with its own numbers over the window
 * (feyxa.monitor_routes, operators only: a route's runs are its handler's runs of the events
 * its pattern matches), what pausing one would hold up (feyxa.monitor_route_waiting), and
 * pausing (with a reason, kept in the audit trail) or resuming one: a paused route stays
 * routed and its events wait (their runs are deferred) until it is resumed.
 */
import type { CallerSql } from "../as-caller.ts";
import type { Built, routeActionResult, routesAnswer, routeWaitingAnswer } from "./answers.ts";
import { type RouteAction, type RoutesQuery, type RouteWaitingQuery, WINDOWS } from "./schemas.ts";

const SECONDS: Record<keyof typeof WINDOWS, number> = { "15m": 900, "1h": 3600, "6h": 21_600, "24h": 86_400, "7d": 604_800 };

type Routes = Built<typeof routesAnswer>;

export async function listRoutes(tx: CallerSql, query: RoutesQuery): Promise<Routes> {
  const routes = await tx<Routes["routes"]>`select * from feyxa.monitor_routes(${SECONDS[query.window]}::int)`;
  return { window: query.window, routes };
}

export async function routeWaiting(tx: CallerSql, query: RouteWaitingQuery): Promise<Built<typeof routeWaitingAnswer>> {
  const [{ result }] = await tx`select feyxa.monitor_route_waiting(${query.event_pattern}, ${query.handler_name}) as result`;
  return result as Built<typeof routeWaitingAnswer>;
}

export async function setRoutePaused(tx: CallerSql, input: RouteAction): Promise<Built<typeof routeActionResult>> {
  const fn = input.action === "pause" ? tx`feyxa.pause_route` : tx`feyxa.resume_route`;
  const [{ result }] = await tx`
    select ${fn}(${input.action_id}::uuid, ${input.event_pattern}, ${input.handler_name}, ${input.reason ?? null}::text) as result`;
  return result as Built<typeof routeActionResult>;
}
