/** The functions' door: verify the caller first, then run the handler with who they are. */
import { type AuthConfig, type Caller, identifyCaller } from "../auth.ts";
import { HttpError } from "../errors.ts";

export type AuthSource = () => AuthConfig | undefined;

export async function callerOf(request: Request, auth: AuthSource): Promise<Caller> {
  const config = auth();
  if (!config) {
    throw new HttpError(503, "unavailable", "authentication is not configured for this function: set FEYXA_JWT_SECRET, SUPABASE_JWKS or SUPABASE_URL, or SUPABASE_SECRET_KEYS / FEYXA_SECRET_KEY");
  }
  return await identifyCaller(request, config);
}
