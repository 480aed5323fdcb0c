/**
 * The routes view: every route (event_subscriptions) with its handler's numbers over the
 * window (feyxa.monitor_routes, operators only), and pausing or resuming one: a paused
 * route stays routed and its events wait (their runs are deferred) until it is resumed.
 */
import type { CallerSql } from "../as-caller.ts";
import type { Built, routeActionResult, routesAnswer } from "./answers.ts";
import { type RouteAction, type RoutesQuery, WINDOWS } from "./schemas.ts";

const SECONDS: Record<keyof typeof WINDOWS, number> = { "15m": 900, "1h": 3600, "6h": 21_600, "24h": 86_400, "7d": 604_800 };

type Routes = Built<typeof routesAnswer>;

export async function listRoutes(tx: CallerSql, query: RoutesQuery): Promise<Routes> {
  const routes = await tx<Routes["routes"]>`select * from feyxa.monitor_routes(${SECONDS[query.window]}::int)`;
  return { window: query.window, routes };
}

export async function setRoutePaused(tx: CallerSql, input: RouteAction): Promise<Built<typeof routeActionResult>> {
  const fn = input.action === "pause" ? tx`feyxa.pause_route` : tx`feyxa.resume_route`;
  const [{ result }] = await tx`select ${fn}(${input.action_id}::uuid, ${input.event_pattern}, ${input.handler_name}) as result`;
  return result as Built<typeof routeActionResult>;
}
