/**
 * Idempotency keys, for the routes that declare `idempotent: true` (pipeline.ts): a client
 * that may send a request twice sends it with `Idempotency-Key: <key>` (Stripe's header; the
 * IETF draft "The Idempotency-Key HTTP Header Field"), and every repeat gets the first
 * request's answer, whatever the timing:
 *
 * - the same key with the same request (function, method, path, query, body) after the first
 *   answered: that answer, replayed (same status and body, `idempotent-replayed: true`);
 * - the same key while the first is still running: the repeat waits for it (polling its row,
 *   holding no connection), then replays its answer; past WAIT_MS, a 409 to retry;
 * - the same key with another request: 422 naming the header;
 * - a malformed key (empty, longer than 255, not printable ASCII): 400 naming the header.
 *
 * A key is its caller's (anon, each signed-in user, the server), so one never meets
 * another's. Answers of 500 and above are not kept: the key is forgotten and asking again
 * runs again (the bus's 5xx mean the transaction did not commit). What is stored and how
 * concurrent duplicates meet: supabase/schemas/bus/idempotency.sql.
 */
import type { Caller } from "../auth.ts";
import { HttpError } from "../errors.ts";
import { errorResponse } from "../http.ts";
import type { Queryable } from "../types.ts";

export const IDEMPOTENCY_HEADER = "idempotency-key";
/** Stripe's bound, and what the table holds. */
export const MAX_KEY_LENGTH = 255;
/** How long the first request holds its key before a duplicate may take it over (renewed every third of it while it runs). */
export const LEASE_MS = 30_000;
/** How long a duplicate waits for the first request's answer before a 409. */
export const WAIT_MS = 15_000;

const field = IDEMPOTENCY_HEADER;

/**
 * The request's key, or undefined when it sent none. The value may be a bare token (as
 * Stripe's clients send it) or a structured-field string (`"…"`, as the IETF draft writes it).
 */
export function idempotencyKeyOf(request: Request): string | undefined {
  const raw = request.headers.get(IDEMPOTENCY_HEADER);
  if (raw === null) return undefined;
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1).replace(/\\(["\\])/g, "$1");
  if (key === "") throw new HttpError(400, "invalid_request", "Idempotency-Key: must not be empty (send a new uuid per request)", field);
  if (key.length > MAX_KEY_LENGTH) throw new HttpError(400, "invalid_request", `Idempotency-Key: at most ${MAX_KEY_LENGTH} characters`, field);
  if (!/^[\x20-\x7e]+$/.test(key)) throw new HttpError(400, "invalid_request", "Idempotency-Key: printable ASCII only", field);
  return key;
}

/** Whose key it is: keys of different callers never meet. */
export function keyOwnerOf(caller: Caller): string {
  return caller.kind === "user" ? `user:${caller.claims.sub}` : caller.kind;
}

/** sha-256 of the request as the function reads it: JSON bodies by value (key order and spacing do not matter). */
export async function fingerprintOf(parts: { fn: string; method: string; path: string; query: unknown; body: unknown }): Promise<string> {
  const text = JSON.stringify([parts.fn, parts.method, parts.path, canonical(parts.query), canonical(parts.body)]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value ?? null;
}

interface Begun {
  outcome: "run" | "replay" | "wait" | "conflict";
  lock_owner: string | null;
  answer_status: number | null;
  answer_headers: Record<string, string> | null;
  answer_body: string | null;
}

export interface KeyedRequest {
  sql: Queryable;
  owner: string;
  key: string;
  fingerprint: string;
  onError?: (error: unknown) => void;
}

/** Runs `handle` once per key: the first request runs it, every repeat gets its answer. */
export async function idempotently({ sql, owner, key, fingerprint, onError }: KeyedRequest, handle: () => Promise<Response>): Promise<Response> {
  const lock = await waitForTurn(sql, owner, key, fingerprint);
  if (lock.outcome === "replay") {
    return new Response(lock.answer_body, { status: lock.answer_status!, headers: { ...lock.answer_headers, "idempotent-replayed": "true" } });
  }
  const lockOwner = lock.lock_owner!;
  const renew = setInterval(() => {
    sql`select feyxa.idempotency_renew(${owner}, ${key}, ${lockOwner}::uuid, ${LEASE_MS})`.catch(() => {});
  }, LEASE_MS / 3);
  let response: Response;
  try {
    response = await handle();
  } catch (thrown) {
    response = errorResponse(thrown, onError); // what the pipeline would answer: kept as any other answer
  } finally {
    clearInterval(renew);
  }
  if (response.status >= 500) {
    await sql`select feyxa.idempotency_finish(${owner}, ${key}, ${lockOwner}::uuid, null, null, null)`.catch(onError);
    return response;
  }
  const body = await response.text();
  const headers = Object.fromEntries(response.headers);
  // The answer stands even if it cannot be kept now (its lease then runs out, and a repeat runs again).
  await sql`select feyxa.idempotency_finish(${owner}, ${key}, ${lockOwner}::uuid, ${response.status}, ${sql.json(headers)}, ${body})`
    .catch(onError);
  return new Response(body, { status: response.status, headers });
}

/** Asks until the key is this request's to run, or there is an answer to replay; 422 and 409 otherwise. */
async function waitForTurn(sql: Queryable, owner: string, key: string, fingerprint: string): Promise<Begun> {
  const giveUpAt = Date.now() + WAIT_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const [begun] = await sql<Begun[]>`select * from feyxa.idempotency_begin(${owner}, ${key}, ${fingerprint}, ${LEASE_MS})`;
    if (begun.outcome === "run" || begun.outcome === "replay") return begun;
    if (begun.outcome === "conflict") {
      throw new HttpError(422, "idempotency_key_reused",
        "Idempotency-Key: this key was first sent with another request (another body, path or function); send a new key for a new request", field);
    }
    if (Date.now() + pause > giveUpAt) {
      throw new HttpError(409, "idempotency_key_in_use", "Idempotency-Key: the first request with this key is still running; retry shortly", field,
        { "retry-after": "1" });
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
