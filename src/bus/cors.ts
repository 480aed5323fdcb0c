/**
 * CORS for every function, in one place. The pages (storefront, monitor) are served from
 * another origin than the functions on a Supabase project, and supabase-js sends
 * `authorization`, `apikey`, `x-client-info` and a JSON `content-type`, so every call is
 * preflighted; the storefront also sends `idempotency-key` with a checkout, and may read
 * `idempotent-replayed` and `retry-after`. Every function is wrapped once, by the pipeline
 * (src/bus/functions/pipeline.ts) that both the local gateway and the Deno entrypoints
 * serve, so a function answers the same on Supabase as locally.
 *
 * Any origin may call: the pages authenticate with a bearer token or an API key, never
 * with cookies, so there are no credentials for another site to ride on.
 */
import { type FetchHandler, withErrors } from "./http.ts";

export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type, idempotency-key",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-expose-headers": "retry-after, idempotent-replayed",
  "access-control-max-age": "86400",
});

/** An OPTIONS preflight is answered 204 here; every other answer, errors included, carries the CORS headers. */
export function withCors(handler: FetchHandler, onUnexpected?: (error: unknown) => void): FetchHandler {
  const answered = withErrors(handler, onUnexpected); // whatever it throws becomes its JSON error
  return async (request) => {
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS_HEADERS });
    return withCorsHeaders(await answered(request));
  };
}

/** The response with the CORS headers set; a copy when its headers are immutable (Response.redirect, a fetched response). */
export function withCorsHeaders(response: Response): Response {
  try {
    for (const [name, value] of Object.entries(CORS_HEADERS)) response.headers.set(name, value);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(CORS_HEADERS)) headers.set(name, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}
