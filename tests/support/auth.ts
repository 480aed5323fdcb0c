/**
 * Credentials for tests, as a Supabase project would issue them: a secret key for server
 * callers, an HS256 JWT secret, and ES256 / RS256 signing keys published as a JWKS.
 */
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from "jose";
import type { AuthConfig } from "../../src/bus/auth.ts";
import type { Bus } from "../../src/bus/bus.ts";
import type { FetchHandler } from "../../src/bus/http.ts";
import { createFunctions } from "../../src/marketplace/functions/index.ts";

export const TEST_SECRET_KEY = "sb_secret_test_2f0c8a1d9e4b7c6a5f3e2d1c0b9a8f7e";
export const TEST_JWT_SECRET = "test-jwt-secret-with-at-least-thirty-two-characters";

const es256 = await generateKeyPair("ES256");
const rs256 = await generateKeyPair("RS256");
export const TEST_JWKS: JSONWebKeySet = {
  keys: [
    { ...(await exportJWK(es256.publicKey)), kid: "es-1", alg: "ES256", use: "sig" },
    { ...(await exportJWK(rs256.publicKey)), kid: "rs-1", alg: "RS256", use: "sig" },
  ],
};

export const testAuth = (): AuthConfig => ({ jwtSecret: TEST_JWT_SECRET, jwks: TEST_JWKS, secretKeys: [TEST_SECRET_KEY] });

export interface TokenOptions {
  role?: string;
  alg?: "HS256" | "ES256" | "RS256";
  expiresIn?: string | number;
  notBefore?: string | number;
  audience?: string;
  secret?: string;
}

/** A JWT as Supabase Auth signs it (sub, role, aud authenticated), with knobs to break it. */
export async function token(sub: string | undefined, o: TokenOptions = {}): Promise<string> {
  const alg = o.alg ?? "HS256";
  let jwt = new SignJWT({ role: o.role ?? "authenticated" })
    .setProtectedHeader({ alg, typ: "JWT", ...(alg === "ES256" ? { kid: "es-1" } : alg === "RS256" ? { kid: "rs-1" } : {}) })
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? "1h")
    .setAudience(o.audience ?? "authenticated");
  if (sub) jwt = jwt.setSubject(sub);
  if (o.notBefore !== undefined) jwt = jwt.setNotBefore(o.notBefore);
  const key = alg === "HS256" ? new TextEncoder().encode(o.secret ?? TEST_JWT_SECRET) : alg === "ES256" ? es256.privateKey : rs256.privateKey;
  return await jwt.sign(key);
}

/** The functions as the test suite's project configures them. */
export function testFunctions(bus: Bus): Record<string, FetchHandler> {
  return createFunctions(bus, undefined, testAuth);
}

/** The functions called by the server: requests without credentials get the secret key. */
export function serverFunctions(bus: Bus): Record<string, FetchHandler> {
  return Object.fromEntries(Object.entries(testFunctions(bus)).map(([name, fn]) => [name, asServer(fn)]));
}

export function asServer(fn: FetchHandler): FetchHandler {
  return (request) => {
    if (request.headers.has("apikey") || request.headers.has("authorization")) return fn(request);
    const headers = new Headers(request.headers);
    headers.set("apikey", TEST_SECRET_KEY);
    return fn(new Request(request, { headers }));
  };
}
