/**
 * The attacker's playbook, part 1: forging a way in. Every forged token below, on every
 * function that verifies callers (listed from createFunctions through tests/support/fuzz.ts),
 * is a 401 that says no more, and nothing is stored. Expired, not-yet-valid, wrong-audience,
 * wrong-secret and `alg: none` service tokens against retry-failed-events are
 * tests/security/callers.test.ts "retry-failed-events answers only to the server"; here are
 * the forgeries it does not try (key confusion, unknown and borrowed key ids, `none` in
 * other spellings, a user id that is not one), on every function. Not here: `webhooks`
 * authenticates by signature (tests/bus/functions/webhooks.test.ts "refuses a bad signature"),
 * and the demo functions verify no caller (served by `npm start` only, never deployed).
 */
import { exportSPKI, generateKeyPair, importJWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { TEST_JWKS, TEST_JWT_SECRET, token } from "../support/auth.ts";
import { uuid } from "../support/bus.ts";
import { useDatabase } from "../support/database.ts";
import { fuzzWorld, rowCounts } from "../support/fuzz.ts";

const { sql } = await useDatabase();
const world = await fuzzWorld(sql);
const victim = world.stranger;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const claims = (role = "service_role"): Record<string, string | number> => ({ sub: victim, role, aud: "authenticated", exp: inAnHour() });

/** Signs `payload` with HS256 over the given secret bytes, with any header the attacker likes. */
const hs256 = (secret: string | Uint8Array, header: Record<string, unknown> = {}, payload = claims()) =>
  new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT", ...header })
    .sign(typeof secret === "string" ? new TextEncoder().encode(secret) : secret);

const rsaPublic = TEST_JWKS.keys.find((k) => k.kid === "rs-1")!;
const rsaPem = await exportSPKI(await importJWK(rsaPublic, "RS256") as CryptoKey);
const strangerKeys = await generateKeyPair("ES256");
const signEs256 = (kid: string) => new SignJWT(claims()).setProtectedHeader({ alg: "ES256", kid }).sign(strangerKeys.privateKey);

const FORGERIES: [string, () => Promise<string>][] = [
  ["HS256 signed with the project's RSA public key as PEM (key confusion)", () => hs256(rsaPem, { kid: "rs-1" })],
  ["HS256 signed with the project's RSA public key as JWK JSON (key confusion)", () => hs256(JSON.stringify(rsaPublic), { kid: "rs-1" })],
  ["HS256 signed with the public key's modulus (key confusion)", () => hs256(Buffer.from(rsaPublic.n!, "base64url"), { kid: "rs-1" })],
  ["ES256 signed by the attacker's key, under an unknown kid", () => signEs256("es-2")],
  ["ES256 signed by the attacker's key, under the project's kid", () => signEs256("es-1")],
  ["ES256 without a kid, signed by the attacker's key", () => new SignJWT(claims()).setProtectedHeader({ alg: "ES256" }).sign(strangerKeys.privateKey)],
  ...(["none", "None", "NONE", "nOnE"] as const).map((alg): [string, () => Promise<string>] =>
    [`alg "${alg}", no signature`, async () => `${b64({ alg, typ: "JWT" })}.${b64(claims())}.`]),
  ["alg none with a signature copied from a real token", async () => `${b64({ alg: "none" })}.${b64(claims())}.${(await token(victim)).split(".")[2]}`],
  ["a real user token with its role rewritten to service_role", async () => {
    const [header, , signature] = (await token(victim)).split(".");
    return `${header}.${b64(claims())}.${signature}`;
  }],
  ["a user token whose sub is not a user id", () => hs256(TEST_JWT_SECRET, {}, { ...claims("authenticated"), sub: "../admin" })],
  ["a user token without exp", () => new SignJWT({ sub: victim, role: "authenticated", aud: "authenticated" }).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(TEST_JWT_SECRET))],
  ["a token for a role the API does not have", () => hs256(TEST_JWT_SECRET, {}, claims("supabase_admin"))],
  ["an HS512 token signed with the project's secret", () => new SignJWT(claims()).setProtectedHeader({ alg: "HS512" }).sign(new TextEncoder().encode(TEST_JWT_SECRET.repeat(2)))],
];

const guarded = world.routes.filter((r) => r.fn !== "webhooks" && !r.fn.startsWith("demo-"));

describe("forged tokens, on every function that verifies its callers", () => {
  for (const [what, forge] of FORGERIES) {
    it(`refuses ${what}: 401 with no detail, as a bearer and as an apikey, nothing stored`, async () => {
      const before = await rowCounts(sql);
      const forged = await forge();
      const failures: string[] = [];
      for (const route of guarded) {
        for (const headers of [{ authorization: `Bearer ${forged}` }, { apikey: forged }] as Record<string, string>[]) {
          const res = await world.send(route, "anon", { headers, body: route.body ? JSON.stringify(route.body()) : undefined });
          const answer = await res.json();
          const quiet = ["invalid or expired credentials", "send Authorization: Bearer <access token> (sign in first)"].includes(answer.message);
          if (res.status !== 401 || !quiet) failures.push(`${route.fn}${route.sub ?? ""} ${Object.keys(headers)[0]}: ${res.status} ${answer.message}`);
        }
      }
      expect(failures).toEqual([]);
      expect(await rowCounts(sql)).toBe(before);
    });
  }

  it("the same functions still let the genuine tokens in (the forgeries are refused for what they are)", async () => {
    const orderStatus = world.routes.find((r) => r.fn === "order-status")!;
    const genuine = await token(victim, { alg: "RS256" });
    const res = await world.send(orderStatus, "anon", { headers: { authorization: `Bearer ${genuine}` }, query: `order_id=${uuid()}` });
    expect(res.status).toBe(404); // verified, then no such order
  });
});
