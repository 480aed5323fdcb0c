/**
 * Local sign-in for the monitor and the storefront, dev only: `npm start` makes (or reuses)
 * a local admin user and a demo buyer, and prints a link for each carrying an access token, signed with the local JWT
 * secret that the gateway's event-monitor verifies. On Supabase, Supabase Auth issues
 * the tokens instead and nothing here runs.
 */
import { SignJWT } from "jose";
import type { Sql } from "postgres";

export const LOCAL_ADMIN = { id: "00000000-0000-4000-8000-00000000ad01", email: "admin@feyxa.local" } as const;
/** A buyer of no store: the storefront's "My orders" and checkouts in their name. */
export const LOCAL_BUYER = { id: "00000000-0000-4000-8000-00000000b001", email: "buyer@feyxa.local" } as const;

/** The configured JWT secret (FEYXA_JWT_SECRET: links survive restarts), else a fresh random secret per start. */
export function localJwtSecret(configured: string | undefined): string {
  return configured || Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** The configured key (FEYXA_SECRET_KEY), else a fresh sb_secret_ key per start: the local server's key (like Supabase's secret key). */
export function localSecretKey(configured: string | undefined): string {
  return configured || `sb_secret_local_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The local admin: a user in auth.users and a row in marketplace_admins. */
export async function ensureLocalAdmin(sql: Sql): Promise<typeof LOCAL_ADMIN> {
  await sql`insert into auth.users (id, email) values (${LOCAL_ADMIN.id}, ${LOCAL_ADMIN.email}) on conflict (id) do nothing`;
  await sql`insert into marketplace_admins (user_id) values (${LOCAL_ADMIN.id}) on conflict (user_id) do nothing`;
  return LOCAL_ADMIN;
}

/** The local demo buyer: a user in auth.users, nothing more. */
export async function ensureLocalBuyer(sql: Sql): Promise<typeof LOCAL_BUYER> {
  await sql`insert into auth.users (id, email) values (${LOCAL_BUYER.id}, ${LOCAL_BUYER.email}) on conflict (id) do nothing`;
  return LOCAL_BUYER;
}

/** An access token shaped like Supabase Auth's (sub, email, role and aud authenticated), HS256. */
export async function signAccessToken(secret: string, user: { id: string; email?: string }, ttlSeconds = 12 * 3600): Promise<string> {
  return await new SignJWT({ email: user.email, role: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setAudience("authenticated")
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}
