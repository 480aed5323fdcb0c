/**
 * The Deno adapter shared by every Edge Function: builds the bus on the first request
 * (configuration is read per request, as edge runtimes hand it in, not at import) and
 * serves the function's web-standard handler with Deno.serve.
 *
 * Supabase's transaction pooler (SUPABASE_DB_URL) does not keep prepared statements,
 * hence prepare: false; and it drops LISTEN, which is why nothing here relies on it.
 */
import postgres from "postgres";
import { type AuthConfig, authConfigFromEnv } from "../../../src/core/auth.ts";
import { Bus } from "../../../src/core/bus.ts";
import type { FetchHandler } from "../../../src/core/http.ts";
import { json } from "../../../src/core/http.ts";
import { engineHandlersFromEnv } from "../../../src/engines/index.ts";

/**
 * How callers are verified, read from the function's environment at each request:
 * SUPABASE_JWT_SECRET (HS256), SUPABASE_URL or SUPABASE_JWKS_URL (ES256/RS256 signing
 * keys), SUPABASE_SECRET_KEYS (sb_secret_… keys of server callers).
 */
export const authFromEnv = (): AuthConfig | undefined => authConfigFromEnv(Deno.env.toObject());

export function serveFunction(name: string, factory: (bus: Bus, auth: () => AuthConfig | undefined) => FetchHandler): void {
  let handler: FetchHandler | undefined;
  const serve = (request: Request): Promise<Response> | Response => {
    if (!handler) {
      const url = Deno.env.get("SUPABASE_DB_URL");
      if (!url) return json({ error: "misconfigured", message: "SUPABASE_DB_URL is not set for this function" }, 500);
      const sql = postgres(url, { prepare: false, max: 4, onnotice: () => {} });
      handler = factory(new Bus({ sql, handlers: engineHandlersFromEnv(Deno.env.toObject()), workerName: name }), authFromEnv);
    }
    return handler(request);
  };
  const port = Deno.env.get("PORT");
  if (port) Deno.serve({ port: Number(port), onListen: () => console.log(`${name} listening on ${port}`) }, serve);
  else Deno.serve(serve);
}
