/**
 * Verifying signed webhooks, with Web Crypto only (Node, Deno and Edge alike).
 *
 * - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 *   the key being the base64 after `whsec_`; several space-separated signatures while the
 *   sender rotates its secret.
 * - Stripe: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">[,v1=...]`, the key
 *   being the whole `whsec_...` string as text.
 *
 * Both refuse a timestamp more than `toleranceSeconds` from now (replays). Outgoing
 * signatures are made by the database (webhook_delivery_plan), which holds the secrets.
 */

export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** Why a signature was refused; the message never contains a signature or a secret. */
export class SignatureError extends Error {
  override name = "SignatureError";
}

const encoder = new TextEncoder();

async function hmacSha256(key: Uint8Array, message: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const toHex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Compares in time independent of where the strings differ. */
function timingSafeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % Math.max(b.length, 1));
  return diff === 0;
}

function checkTimestamp(timestamp: string | null, now: Date, toleranceSeconds: number): number {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) throw new SignatureError("missing or malformed timestamp");
  const seconds = Number(timestamp);
  if (Math.abs(now.getTime() / 1000 - seconds) > toleranceSeconds) {
    throw new SignatureError(`timestamp outside the ${toleranceSeconds} s tolerance`);
  }
  return seconds;
}

/** Several secrets may be configured at once (a rotation): whitespace-separated. */
export const splitSecrets = (configured: string | undefined) => (configured ?? "").split(/\s+/).filter(Boolean);

export interface StandardWebhookHeaders {
  id: string | null;
  timestamp: string | null;
  signature: string | null;
}

export async function verifyStandardWebhook(
  secrets: string[],
  headers: StandardWebhookHeaders,
  body: string,
  { now = new Date(), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = {},
): Promise<void> {
  if (!headers.id || !headers.signature) throw new SignatureError("missing webhook-id or webhook-signature");
  checkTimestamp(headers.timestamp, now, toleranceSeconds);
  const offered = headers.signature.split(" ").filter((s) => s.startsWith("v1,")).map((s) => s.slice(3));
  for (const secret of secrets) {
    let key: Uint8Array;
    try {
      key = fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
    } catch {
      continue; // a malformed configured secret matches nothing
    }
    const expected = toBase64(await hmacSha256(key, `${headers.id}.${headers.timestamp}.${body}`));
    if (offered.some((s) => timingSafeEqual(s, expected))) return;
  }
  throw new SignatureError("no signature matches");
}

export async function verifyStripe(
  secrets: string[],
  header: string | null,
  body: string,
  { now = new Date(), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = {},
): Promise<void> {
  if (!header) throw new SignatureError("missing Stripe-Signature");
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string?]);
  const timestamp = parts.find(([k]) => k === "t")?.[1] ?? null;
  checkTimestamp(timestamp, now, toleranceSeconds);
  const offered = parts.filter(([k, v]) => k === "v1" && v).map(([, v]) => v!);
  for (const secret of secrets) {
    const expected = toHex(await hmacSha256(encoder.encode(secret), `${timestamp}.${body}`));
    if (offered.some((s) => timingSafeEqual(s, expected))) return;
  }
  throw new SignatureError("no signature matches");
}

/** Signs like Stripe does (for tests and local tools standing in for Stripe). */
export async function signStripe(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${timestamp},v1=${toHex(await hmacSha256(encoder.encode(secret), `${timestamp}.${body}`))}`;
}
