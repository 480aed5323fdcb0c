/**
 * Who is calling. Every function verifies its caller itself (the gateway's verify_jwt
 * cannot check Supabase's new asymmetric signing keys, and knows nothing of secret keys):
 *
 * - a server: Supabase's secret key (`sb_secret_…`, in the `apikey` header or as the
 *   bearer), or a JWT with role `service_role` (the legacy service key);
 * - a user: a JWT with role `authenticated`, audience `authenticated` and a user id, signed
 *   HS256 with the project's JWT secret, or ES256/RS256 with a key of the project's JWKS;
 * - anon: no credentials, a publishable key (`sb_publishable_…`, one of the project's when
 *   they are configured), or a JWT with role `anon`.
 *
 * Anything presented that does not verify (expired, not yet valid, wrong audience,
 * forged, `alg: none`, an unknown secret key) is a 401 that says no more than that.
 */
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify, type JWTVerifyGetKey } from "jose";
import { HttpError } from "./errors.ts";

export interface AuthConfig {
  /** HS256: the project's (legacy) JWT secret. */
  jwtSecret?: string;
  /** ES256 / RS256: the project's signing keys, as a JWKS document or its URL. */
  jwks?: JSONWebKeySet | URL;
  /** Secret API keys (sb_secret_…) that identify server callers. */
  secretKeys?: string[];
  /** The project's publishable keys (sb_publishable_…): anon. When given, another sb_publishable_ key is refused. */
  publishableKeys?: string[];
}

/** The verified claims of a signed-in user, as Supabase Auth issues them. */
export interface Claims extends JWTPayload {
  sub: string;
  role: string;
  email?: string;
}

export type Caller =
  | { kind: "server" }
  | { kind: "user"; claims: Claims }
  | { kind: "anon" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;

const unauthorized = (message = "invalid or expired credentials") =>
  new HttpError(401, "unauthorized", message, undefined, { "www-authenticate": 'Bearer realm="feyxa"' });

export function bearerToken(request: Request): string {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) throw unauthorized("send Authorization: Bearer <access token> (sign in first)");
  return match[1];
}

/** Who sent the request. Throws 401 for credentials that do not verify; no credentials is anon. */
export async function identifyCaller(request: Request, config: AuthConfig): Promise<Caller> {
  const apikey = request.headers.get("apikey") ?? "";
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
  for (const key of [apikey, bearer]) {
    if (key.startsWith("sb_secret_")) {
      if (await isSecretKey(key, config.secretKeys ?? [])) return { kind: "server" };
      throw unauthorized();
    }
    if (key.startsWith("sb_publishable_") && config.publishableKeys?.length && !config.publishableKeys.includes(key)) {
      throw unauthorized();
    }
  }
  if (bearer && JWT.test(bearer)) return callerOf(await verifyJwt(bearer, config));
  if (apikey && JWT.test(apikey)) return callerOf(await verifyJwt(apikey, config)); // a legacy anon/service key alone
  if (bearer && !bearer.startsWith("sb_publishable_") && bearer !== apikey) throw unauthorized();
  return { kind: "anon" };
}

/** A signed-in user's claims (for functions only users may call, like event-monitor). */
export async function verifyRequest(request: Request, config: AuthConfig): Promise<Claims> {
  const caller = callerOf(await verifyJwt(bearerToken(request), config));
  if (caller.kind !== "user") throw new HttpError(403, "forbidden", "only signed-in users may use this function");
  return caller.claims;
}

export function requireServer(caller: Caller): void {
  if (caller.kind === "anon") throw unauthorized("server credentials required");
  if (caller.kind !== "server") throw new HttpError(403, "forbidden", "only the server may call this function");
}

function callerOf(payload: JWTPayload): Caller {
  if (payload.role === "service_role") return { kind: "server" };
  if (payload.role === "anon") return { kind: "anon" };
  if (payload.role === "authenticated" && typeof payload.sub === "string" && UUID.test(payload.sub)) {
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes("authenticated")) throw unauthorized();
    return { kind: "user", claims: payload as Claims };
  }
  throw unauthorized();
}

const remoteKeySets = new Map<string, JWTVerifyGetKey>();

async function verifyJwt(token: string, config: AuthConfig): Promise<JWTPayload> {
  const hmac = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : undefined;
  const keySet = keySetOf(config.jwks);
  try {
    const { payload } = await jwtVerify(token, async (header, input) => {
      if (header.alg === "HS256" && hmac) return hmac;
      if ((header.alg === "ES256" || header.alg === "RS256") && keySet) return await keySet(header, input);
      throw new Error("unsupported algorithm");
    }, { algorithms: ["HS256", "ES256", "RS256"], requiredClaims: ["exp", "role"] });
    return payload;
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw unauthorized(); // expired, not yet valid, forged, alg none, unknown key: the caller learns no more
  }
}

function keySetOf(jwks: AuthConfig["jwks"]): JWTVerifyGetKey | undefined {
  if (!jwks) return undefined;
  if (!(jwks instanceof URL)) return createLocalJWKSet(jwks);
  let set = remoteKeySets.get(jwks.href);
  if (!set) remoteKeySets.set(jwks.href, (set = createRemoteJWKSet(jwks, { cacheMaxAge: 10 * 60_000 })));
  return set;
}

/** Compares digests, so the time taken says nothing about how much of a key matched. */
async function isSecretKey(candidate: string, keys: string[]): Promise<boolean> {
  const digest = async (s: string) => new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  const c = await digest(candidate);
  let found = false;
  for (const key of keys) {
    const k = await digest(key);
    let diff = 0;
    for (let i = 0; i < k.length; i++) diff |= k[i] ^ c[i];
    found ||= diff === 0;
  }
  return found;
}

/**
 * The configuration from the environment a function runs in (Deno.env / process.env), as a
 * hosted Supabase project provides it, plus our own settings (names the CLI accepts:
 * `supabase secrets set` refuses names that start with SUPABASE_):
 *
 * - `SUPABASE_SECRET_KEYS`, `SUPABASE_PUBLISHABLE_KEYS`: JSON dictionaries of the project's
 *   API keys, `{"default":"sb_secret_…"}` (a comma list is read too); `FEYXA_SECRET_KEY`, one
 *   more server key of our own (comma list for a rotation);
 * - `FEYXA_JWT_SECRET`: the project's legacy JWT secret, for HS256 user tokens (hosted
 *   functions are not given it; `SUPABASE_JWT_SECRET` is read where a runtime gives it);
 * - `SUPABASE_JWKS`: the project's signing keys as a JWKS document; otherwise fetched from
 *   `SUPABASE_JWKS_URL` or `${SUPABASE_URL}/auth/v1/.well-known/jwks.json`.
 */
export function authConfigFromEnv(env: Record<string, string | undefined>): AuthConfig | undefined {
  const jwtSecret = env.FEYXA_JWT_SECRET?.trim() || env.SUPABASE_JWT_SECRET?.trim() || undefined;
  const jwks = jwksFromEnv(env);
  const secretKeys = [...new Set([...apiKeys(env.FEYXA_SECRET_KEY), ...apiKeys(env.SUPABASE_SECRET_KEYS), ...apiKeys(env.SUPABASE_SECRET_KEY)])];
  const publishableKeys = [...new Set([...apiKeys(env.SUPABASE_PUBLISHABLE_KEYS), ...apiKeys(env.SUPABASE_PUBLISHABLE_KEY)])];
  if (!jwtSecret && !jwks && secretKeys.length === 0) return undefined;
  return { jwtSecret, jwks, secretKeys, ...(publishableKeys.length > 0 ? { publishableKeys } : {}) };
}

/**
 * The keys of a SUPABASE_*_KEYS value: the string values of a JSON dictionary (or array), or
 * else a comma-separated list. A value that starts like JSON but does not parse yields no key:
 * never its fragments, which a comma split would turn into keys.
 */
export function apiKeys(value: string | undefined): string[] {
  const text = value?.trim() ?? "";
  if (text === "") return [];
  let values: unknown[] = text.split(",");
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(text);
      values = Array.isArray(parsed) ? parsed : parsed && typeof parsed === "object" ? Object.values(parsed) : [];
    } catch {
      values = [];
    }
  }
  return values.filter((v): v is string => typeof v === "string").map((v) => v.trim()).filter((v) => v !== "");
}

/** SUPABASE_JWKS (a JWKS document, or a bare array of keys) if it parses; else the JWKS URL. */
function jwksFromEnv(env: Record<string, string | undefined>): AuthConfig["jwks"] {
  const document = env.SUPABASE_JWKS?.trim();
  if (document) {
    try {
      const parsed = JSON.parse(document) as JSONWebKeySet | JSONWebKeySet["keys"];
      const keys = Array.isArray(parsed) ? parsed : parsed?.keys;
      if (Array.isArray(keys)) return { keys };
    } catch {
      // not JSON: fall back to the URL, which serves the same keys
    }
  }
  const base = env.SUPABASE_URL?.trim().replace(/\/+$/, "");
  const url = env.SUPABASE_JWKS_URL?.trim() || (base ? `${base}/auth/v1/.well-known/jwks.json` : undefined);
  if (!url) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
