/**
 * The functions gateway: serves each function at /functions/v1/<name>, as Supabase does,
 * so local callers and tests use the same URLs as production. Web-standard only.
 * CORS is the functions' own (src/bus/cors.ts, applied by their pipeline), as on
 * Supabase, whose gateway adds none; only the gateway's own 404 is labelled here.
 */
import { withCorsHeaders } from "../cors.ts";
import { HttpError } from "../errors.ts";
import { errorResponse, type FetchHandler } from "../http.ts";

export function createGateway(functions: Record<string, FetchHandler>): FetchHandler {
  return async (request) => {
    const { pathname } = new URL(request.url);
    // Prometheus' usual path: the metrics function, which asks for the server key as everywhere.
    if (pathname === "/metrics" && Object.hasOwn(functions, "metrics")) return await functions.metrics(request);
    // A function also serves the paths under its name (/functions/v1/event-monitor/events), as on Supabase.
    const match = /^\/functions\/v1\/([a-z0-9-]+)(\/.*)?$/.exec(pathname);
    const fn = match && Object.hasOwn(functions, match[1]) ? functions[match[1]] : undefined;
    if (fn) return await fn(request);
    return withCorsHeaders(errorResponse(new HttpError(404, "not_found", `no function at ${pathname}; try /functions/v1/${Object.keys(functions).join(" or /functions/v1/")}`)));
  };
}
