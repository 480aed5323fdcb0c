/**
 * The functions gateway: serves each function at /functions/v1/<name>, as Supabase does,
 * so local callers and tests use the same URLs as production. Web-standard only.
 */
import { HttpError } from "../core/errors.ts";
import { errorResponse, type FetchHandler } from "../core/http.ts";

/** Browsers may call the functions from any origin (the pages send a bearer token, not cookies). */
export const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type",
  "access-control-allow-methods": "POST, GET, OPTIONS",
};

export function createGateway(functions: Record<string, FetchHandler>): FetchHandler {
  return async (request) => {
    const { pathname } = new URL(request.url);
    // A function also serves the paths under its name (/functions/v1/event-monitor/events), as on Supabase.
    const match = /^\/functions\/v1\/([a-z0-9-]+)(\/.*)?$/.exec(pathname);
    const fn = match && Object.hasOwn(functions, match[1]) ? functions[match[1]] : undefined;
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    const response = fn
      ? await fn(request)
      : errorResponse(new HttpError(404, "not_found", `no function at ${pathname}; try /functions/v1/${Object.keys(functions).join(" or /functions/v1/")}`));
    for (const [k, v] of Object.entries(CORS)) response.headers.set(k, v);
    return response;
  };
}
