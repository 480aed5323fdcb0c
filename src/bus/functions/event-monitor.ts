/**
 * event-monitor: what the monitor page reads and the actions an operator takes.
 * Every request must carry a signed-in user's token; every statement then runs as that
 * user (see as-caller.ts), so the database decides what they see and may do.
 *
 *   GET  /event-monitor/me            who am I, may I act, which tenants
 *   GET  /event-monitor/events        ?type=order.*&status=failed,dead&tenant=&from=&to=&q=&limit=&cursor=
 *   GET  /event-monitor/events/<id>   payload, every attempt's handler runs, timings, routing, why it waits
 *   GET  /event-monitor/story         ?q=<event, aggregate or correlation id, or an order number...>  a story, in time order
 *   GET  /event-monitor/stats         ?window=15m|1h|6h|24h|7d&type=&tenant=
 *   GET  /event-monitor/failures      ?type=&tenant=  failed and dead events grouped by error fingerprint
 *   GET  /event-monitor/actions       the audit trail (admins)
 *   POST /event-monitor/actions       {action_id, kind: retry|redrive|replay|discard|cancel, ...} (admins)
 *   GET  /event-monitor/bulk          ?kind=retry|redrive|discard&<list filters>  how many events it would touch
 *   POST /event-monitor/bulk          {action_id, kind, filter, cursor?, reason?}  one batch (admins)
 *   GET  /event-monitor/routes        ?window=  every route with its own runs, failures, p50/p95, last error (admins)
 *   GET  /event-monitor/routes/waiting ?event_pattern=&handler_name=  the open events pausing it would hold up (admins)
 *   POST /event-monitor/routes        {action_id, action: pause|resume, event_pattern, handler_name, reason} (admins; pause needs a reason)
 *   GET  /event-monitor/health        the bus's health verdict, lag, workers, throughput trend (admins)
 */
import type { Bus } from "../bus.ts";
import { HttpError } from "../errors.ts";
import type { FetchHandler } from "../http.ts";
import { type AuthSource, userOf } from "./caller.ts";
import { recentActions, runAction, whoAmI } from "./monitor/actions.ts";
import { alertRoutes } from "./monitor/alerts.ts";
import { asCaller } from "./as-caller.ts";
import { previewBulk, runBulk } from "./monitor/bulk.ts";
import { eventDetail, listEvents } from "./monitor/events.ts";
import { failureGroups } from "./monitor/failures.ts";
import { listRoutes, routeWaiting, setRoutePaused } from "./monitor/routes.ts";
import {
  actionInput, bulkInput, bulkPreviewQuery, listQuery, routeAction, routesQuery, routeWaitingQuery, scopeQuery, statsQuery, storyQuery,
} from "./monitor/schemas.ts";
import { story } from "./monitor/story.ts";
import { stats } from "./monitor/stats.ts";
import { readHealth } from "../telemetry/health.ts";
import { defineFunction, json, type RequestContext, route, serveFunction } from "./pipeline.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i; // nothing the cast would refuse

/** A read as the signed-in caller, under RLS. */
const read = <T>({ bus, caller }: RequestContext<unknown, unknown>, work: Parameters<typeof asCaller<T>>[2]) =>
  asCaller(bus.sql, userOf(caller), work);

/** The page is served from another origin on Supabase: its CORS is the pipeline's. */
export const eventMonitor = defineFunction({
  name: "event-monitor",
  auth: "user",
  note: "the monitor page sends the operator's access token; every statement runs as that user, under RLS",
  routes: [
    route("GET /me", { handle: async (c) => json(await read(c, whoAmI)) }),
    route("GET /events", { query: listQuery, handle: async (c) => json(await read(c, (tx) => listEvents(tx, c.query))) }),
    route("GET /events/:id", {
      handle: async (c) => {
        if (!UUID.test(c.params.id)) throw new HttpError(404, "not_found", `no route ${c.path}; try /events/<id> with an event's id`);
        return json(await read(c, (tx) => eventDetail(tx, c.params.id)));
      },
    }),
    route("GET /stats", {
      query: statsQuery,
      handle: async (c) => {
        // What settled since the rollups' last fold, first (by the server: the fold writes them).
        await c.bus.sql`select feyxa.fold_stats(interval '10 minutes')`;
        return json(await read(c, (tx) => stats(tx, c.query)));
      },
    }),
    route("GET /story", { query: storyQuery, handle: async (c) => json(await read(c, (tx) => story(tx, c.query.q))) }),
    route("GET /failures", { query: scopeQuery, handle: async (c) => json(await read(c, (tx) => failureGroups(tx, c.query))) }),
    route("GET /bulk", { query: bulkPreviewQuery, handle: async (c) => json(await read(c, (tx) => previewBulk(tx, c.query))) }),
    route("POST /bulk", {
      body: bulkInput, maxBytes: 16 * 1024,
      handle: async ({ bus, caller, body }) =>
        json(await asCaller(bus.sql, userOf(caller), (tx) => runBulk(tx, body), { readOnly: false })),
    }),
    route("GET /routes", { query: routesQuery, handle: async (c) => json(await read(c, (tx) => listRoutes(tx, c.query))) }),
    route("GET /routes/waiting", { query: routeWaitingQuery, handle: async (c) => json(await read(c, (tx) => routeWaiting(tx, c.query))) }),
    route("POST /routes", {
      body: routeAction, maxBytes: 4 * 1024,
      handle: async ({ bus, caller, body }) =>
        json(await asCaller(bus.sql, userOf(caller), (tx) => setRoutePaused(tx, body), { readOnly: false })),
    }),
    route("GET /actions", { handle: async (c) => json({ actions: await read(c, (tx) => recentActions(tx)) }) }),
    ...alertRoutes, // GET and POST /alerts: monitor/alerts.ts
    // The verdict the metrics function serves (telemetry/health.ts), read as the caller: anyone but an operator gets a 403.
    route("GET /health", { handle: async (c) => json(await read(c, readHealth)) }),
    route("POST /actions", {
      body: actionInput, maxBytes: 16 * 1024,
      handle: async ({ bus, caller, body }) =>
        json(await asCaller(bus.sql, userOf(caller), (tx) => runAction(tx, body), { readOnly: false })),
    }),
  ],
});

export interface EventMonitorOptions {
  /** Read per request, as edge runtimes hand configuration in. Unset: every request is refused (503). */
  auth: AuthSource;
  onError?: (error: unknown) => void;
}

/** The function on its own, as a handler (library use, the tests). */
export function createEventMonitor(bus: Bus, options: EventMonitorOptions): FetchHandler {
  return serveFunction(eventMonitor, { ...options, bus, env: () => ({}) });
}
