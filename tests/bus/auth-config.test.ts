/**
 * The functions' configuration, read as a hosted Supabase project hands it to them:
 * SUPABASE_SECRET_KEYS / SUPABASE_PUBLISHABLE_KEYS as JSON dictionaries (a comma list as a
 * fallback), the JWKS as a document or a URL, our own settings under FEYXA_* names.
 */
import { describe, expect, it } from "vitest";
import { apiKeys, authConfigFromEnv, identifyCaller } from "../../src/bus/auth.ts";
import { TEST_JWKS, token } from "../support/auth.ts";

const SECRET = "sb_secret_hosted_0123456789abcdef";
const OTHER_SECRET = "sb_secret_rotated_fedcba9876543210";
const PUBLISHABLE = "sb_publishable_hosted_0123456789";

const request = (headers: Record<string, string>) => new Request("http://functions.test/process-event", { method: "POST", headers });

describe("SUPABASE_SECRET_KEYS and SUPABASE_PUBLISHABLE_KEYS", () => {
  it("reads the JSON dictionary a hosted project provides", async () => {
    const config = authConfigFromEnv({ SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET, ci: OTHER_SECRET }) })!;
    expect(config.secretKeys).toEqual([SECRET, OTHER_SECRET]);
    expect(await identifyCaller(request({ apikey: SECRET }), config)).toEqual({ kind: "server" });
    expect(await identifyCaller(request({ authorization: `Bearer ${OTHER_SECRET}` }), config)).toEqual({ kind: "server" });
  });

  it("falls back to a comma list, and adds FEYXA_SECRET_KEY", () => {
    expect(authConfigFromEnv({ SUPABASE_SECRET_KEYS: ` ${SECRET} , ${OTHER_SECRET},` })!.secretKeys).toEqual([SECRET, OTHER_SECRET]);
    expect(authConfigFromEnv({ FEYXA_SECRET_KEY: "sb_secret_own", SUPABASE_SECRET_KEYS: `{"default":"${SECRET}"}` })!.secretKeys)
      .toEqual(["sb_secret_own", SECRET]);
  });

  it("takes no key from a dictionary that does not parse, never its fragments", async () => {
    const broken = `{"default":"${SECRET}",`;
    expect(apiKeys(broken)).toEqual([]);
    expect(authConfigFromEnv({ SUPABASE_SECRET_KEYS: broken })).toBeUndefined(); // nothing configured: the functions answer 503
    const config = authConfigFromEnv({ SUPABASE_SECRET_KEYS: broken, FEYXA_SECRET_KEY: OTHER_SECRET })!;
    expect(config.secretKeys).toEqual([OTHER_SECRET]);
    await expect(identifyCaller(request({ apikey: SECRET }), config)).rejects.toMatchObject({ status: 401 });
  });

  it("ignores what is not a string in the dictionary, and empty values", () => {
    expect(apiKeys(JSON.stringify({ default: SECRET, n: 1, empty: " ", nested: { k: "v" } }))).toEqual([SECRET]);
    expect(apiKeys(JSON.stringify([SECRET]))).toEqual([SECRET]);
    expect(apiKeys("null")).toEqual(["null"]); // not JSON-shaped: a one-item comma list, which matches no sb_secret_ key
    expect(apiKeys(undefined)).toEqual([]);
  });

  it("recognises the project's publishable keys as anon, and refuses another sb_publishable_ key", async () => {
    const config = authConfigFromEnv({ SUPABASE_SECRET_KEYS: `{"default":"${SECRET}"}`, SUPABASE_PUBLISHABLE_KEYS: `{"default":"${PUBLISHABLE}"}` })!;
    expect(config.publishableKeys).toEqual([PUBLISHABLE]);
    // supabase-js sends the key both as apikey and as the bearer
    expect(await identifyCaller(request({ apikey: PUBLISHABLE, authorization: `Bearer ${PUBLISHABLE}` }), config)).toEqual({ kind: "anon" });
    await expect(identifyCaller(request({ apikey: "sb_publishable_someone_elses" }), config)).rejects.toMatchObject({ status: 401 });
    // without configured publishable keys, any publishable key is anon (local runs)
    expect(await identifyCaller(request({ apikey: "sb_publishable_x" }), { secretKeys: [SECRET] })).toEqual({ kind: "anon" });
  });
});

describe("the JWT secret and the signing keys", () => {
  it("reads FEYXA_JWT_SECRET first, SUPABASE_JWT_SECRET where a runtime gives it", () => {
    expect(authConfigFromEnv({ FEYXA_JWT_SECRET: "ours", SUPABASE_JWT_SECRET: "theirs" })!.jwtSecret).toBe("ours");
    expect(authConfigFromEnv({ SUPABASE_JWT_SECRET: "theirs" })!.jwtSecret).toBe("theirs");
  });

  it("takes the JWKS document from SUPABASE_JWKS, else the project's well-known URL", () => {
    expect(authConfigFromEnv({ SUPABASE_JWKS: JSON.stringify(TEST_JWKS), SUPABASE_URL: "https://ref.supabase.co" })!.jwks).toEqual(TEST_JWKS);
    expect(authConfigFromEnv({ SUPABASE_JWKS: JSON.stringify(TEST_JWKS.keys) })!.jwks).toEqual(TEST_JWKS);
    const url = authConfigFromEnv({ SUPABASE_JWKS: "{not json", SUPABASE_URL: "https://ref.supabase.co/" })!.jwks;
    expect(String(url)).toBe("https://ref.supabase.co/auth/v1/.well-known/jwks.json");
    expect(String(authConfigFromEnv({ SUPABASE_JWKS_URL: "https://keys.example/jwks.json", SUPABASE_URL: "https://ref.supabase.co" })!.jwks))
      .toBe("https://keys.example/jwks.json");
    expect(authConfigFromEnv({ SUPABASE_URL: "not a url" })).toBeUndefined();
  });

  it("verifies a user's ES256 token with the keys of SUPABASE_JWKS", async () => {
    const config = authConfigFromEnv({ SUPABASE_JWKS: JSON.stringify(TEST_JWKS) })!;
    const user = "7d0c1b6e-3a3f-4f57-9a51-0f0e6b1c2d3e";
    const caller = await identifyCaller(request({ authorization: `Bearer ${await token(user, { alg: "ES256" })}` }), config);
    expect(caller).toMatchObject({ kind: "user", claims: { sub: user } });
  });

  it("is unconfigured (undefined) when nothing is set", () => {
    expect(authConfigFromEnv({})).toBeUndefined();
    expect(authConfigFromEnv({ SUPABASE_SECRET_KEYS: "", SUPABASE_PUBLISHABLE_KEYS: `{"default":"${PUBLISHABLE}"}` })).toBeUndefined();
  });
});
