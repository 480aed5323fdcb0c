/**
 * The functions' door: who may call a function, checked once by the pipeline
 * (src/bus/functions/pipeline.ts) before the function's own code runs.
 *
 * - "server": the project's secret key or a service_role JWT (401 for anon, 403 for a user);
 * - "user": a signed-in user's bearer token (the statements then run as that user);
 * - "anyone": anon too, but credentials that are presented must verify (401 otherwise);
 * - "none": no caller check at all (signed webhooks verify their signature, the local demo).
 *
 * Unless "none", a function whose authentication is not configured answers 503, here and
 * only here.
 */
import { type AuthConfig, type Caller, identifyCaller, requireServer, verifyRequest } from "../auth.ts";
import { HttpError } from "../errors.ts";

export type AuthSource = () => AuthConfig | undefined;
export type AuthMode = "server" | "user" | "anyone" | "none";

function configured(auth: AuthSource): AuthConfig {
  const config = auth();
  if (!config) {
    throw new HttpError(503, "unavailable", "authentication is not configured for this function: set FEYXA_JWT_SECRET, SUPABASE_JWKS or SUPABASE_URL, or SUPABASE_SECRET_KEYS / FEYXA_SECRET_KEY");
  }
  return config;
}

/** Who sent the request (anon when no credentials); 503 when authentication is not configured. */
export async function callerOf(request: Request, auth: AuthSource): Promise<Caller> {
  return await identifyCaller(request, configured(auth));
}

/** The caller, admitted by the function's mode, or a 401/403/503. */
export async function admit(request: Request, mode: AuthMode, auth: AuthSource): Promise<Caller> {
  if (mode === "none") return { kind: "anon" };
  if (mode === "user") return { kind: "user", claims: await verifyRequest(request, configured(auth)) };
  const caller = await callerOf(request, auth);
  if (mode === "server") requireServer(caller);
  return caller;
}

/** The signed-in user's claims: a function whose mode is "user" always has them. */
export function userOf(caller: Caller) {
  if (caller.kind !== "user") throw new HttpError(403, "forbidden", "only signed-in users may use this function");
  return caller.claims;
}
