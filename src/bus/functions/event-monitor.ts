/**
 * event-monitor: what the monitor page reads and the actions an operator takes.
 * Every request must carry a signed-in user's token; every statement then runs as that
 * user (see monitor/as-caller.ts), so the database decides what they see and may do.
 *
 *   GET  /event-monitor/me            who am I, may I act, which stores
 *   GET  /event-monitor/events        ?type=order.*&status=failed,dead&store=&from=&to=&q=&limit=&cursor=
 *   GET  /event-monitor/events/<id>   payload, every attempt's handler runs, timings, routing
 *   GET  /event-monitor/stats         ?window=15m|1h|6h|24h|7d&type=&store=
 *   GET  /event-monitor/actions       the audit trail (admins)
 *   POST /event-monitor/actions       {action_id, kind: retry|redrive|replay, ...} (admins)
 */
import { type AuthConfig, verifyRequest } from "../auth.ts";
import type { Bus } from "../bus.ts";
import { HttpError } from "../errors.ts";
import { type FetchHandler, json, parseWith, readJson, requireMethod, withErrors } from "../http.ts";
import { recentActions, runAction, whoAmI } from "./monitor/actions.ts";
import { asCaller } from "./monitor/as-caller.ts";
import { eventDetail, listEvents } from "./monitor/events.ts";
import { actionInput, listQuery, queryObject, statsQuery } from "./monitor/schemas.ts";
import { stats } from "./monitor/stats.ts";

export interface EventMonitorOptions {
  /** Read per request, as edge runtimes hand configuration in. Unset: every request is refused (503). */
  auth: () => AuthConfig | undefined;
  onError?: (error: unknown) => void;
}

const EVENT_PATH = /^\/events\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i; // a UUID, nothing the cast would refuse

/** The page is served from another origin on Supabase: its CORS is the shared wrapper's (src/bus/cors.ts). */
export function createEventMonitor(bus: Bus, options: EventMonitorOptions): FetchHandler {
  return withErrors(async (request) => {
    const url = new URL(request.url);
    // The path after the function's name: /functions/v1/event-monitor/x locally, /event-monitor/x on Supabase.
    const route = /\/event-monitor(\/.*)?$/.exec(url.pathname)?.[1]?.replace(/\/$/, "") || "/";
    const auth = options.auth();
    if (!auth) throw new HttpError(503, "misconfigured", "event-monitor has no JWT secret configured (FEYXA_JWT_SECRET)");
    const claims = await verifyRequest(request, auth);
    const read = <T>(work: Parameters<typeof asCaller<T>>[2]) => asCaller(bus.sql, claims, work);

    if (route === "/actions" && request.method === "POST") {
      const input = await readJson(request, actionInput, { maxBytes: 16 * 1024 });
      return json(await asCaller(bus.sql, claims, (tx) => runAction(tx, input), { readOnly: false }));
    }
    requireMethod(request, "GET");
    const query = queryObject(url);
    if (route === "/me") return json(await read(whoAmI));
    if (route === "/events") {
      const filters = parseWith(listQuery, query);
      return json(await read((tx) => listEvents(tx, filters)));
    }
    if (route === "/stats") {
      const filters = parseWith(statsQuery, query);
      return json(await read((tx) => stats(tx, filters)));
    }
    if (route === "/actions") return json({ actions: await read((tx) => recentActions(tx)) });
    const event = EVENT_PATH.exec(route);
    if (event) return json(await read((tx) => eventDetail(tx, event[1])));
    throw new HttpError(404, "not_found", `no route ${route}; try /me, /events, /events/<id>, /stats or /actions`);
  }, options.onError);
}
