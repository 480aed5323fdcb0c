/**
 * Errors the bus acts on. Handlers throw the first two; the HTTP layer turns HttpError
 * (and anything else, via toHttpError) into a JSON answer with no stack or SQL text.
 */

/** Thrown by a handler: retrying cannot help (bad data, a business rule). The event goes to dead. */
export class NonRetriableError extends Error {
  override name = "NonRetriableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Thrown by a handler: try again, but not before `retryAt` (a rate limit, a maintenance window). */
export class RetryAfterError extends Error {
  override name = "RetryAfterError";
  readonly retryAt: Date;
  /** @param retryAfter milliseconds from now, or the time itself */
  constructor(message: string, retryAfter: number | Date, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAt = retryAfter instanceof Date ? retryAfter : new Date(Date.now() + retryAfter);
  }
}

/** A handler ran past its timeout. Retriable: the next attempt may be luckier. */
export class HandlerTimeoutError extends Error {
  override name = "HandlerTimeoutError";
  constructor(handlerName: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms (handler ${handlerName})`);
  }
}

/** Anything thrown, as an Error. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === "string") return new Error(thrown);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(thrown)}`);
  } catch {
    return new Error(`non-error thrown: ${String(thrown)}`);
  }
}

export interface HttpErrorBody {
  error: string;
  message: string;
  field?: string;
}

/** An answer the caller can act on: a status, a stable error code, a message, maybe a field. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): HttpErrorBody {
    return { error: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}

/** Postgres error codes the bus tells apart (SQLSTATE). */
export const PG = {
  invalidParameter: "22023",
  invalidText: "22P02",
  limitExceeded: "54000",
  noDataFound: "P0002",
  wrongState: "55000",
  uniqueViolation: "23505",
  insufficientPrivilege: "42501",
  tooManyConnections: "53300",
  cannotConnectNow: "57P03",
  adminShutdown: "57P01",
  crashShutdown: "57P02",
  queryCanceled: "57014",
  lockNotAvailable: "55P03",
  serializationFailure: "40001",
  deadlockDetected: "40P01",
} as const;

/**
 * The database cannot answer now, and asking again shortly may work: it refuses or drops
 * connections (the server is down, restarting, or out of connection slots), the network to
 * it fails or stays silent (08xxx, the socket errors, postgres.js's own connection codes),
 * or a statement ran past its time (statement_timeout, lock_timeout, or a query the pool
 * gave up waiting for: src/bus/bounded-sql.ts). In every case the transaction, if one was
 * open, was rolled back or never began; an emit that committed just before the connection
 * broke is the one exception, which is what idempotency keys are for.
 */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  PG.tooManyConnections, PG.cannotConnectNow, PG.adminShutdown, PG.crashShutdown, PG.queryCanceled, PG.lockNotAvailable,
]);
const UNAVAILABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "EAI_AGAIN",
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED",
]);

export function isDatabaseUnavailable(code: string): boolean {
  return code.startsWith("08") || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NETWORK_CODES.has(code);
}

interface PgLikeError {
  code?: string;
  detail?: string;
  message?: string;
  column_name?: string;
}

/**
 * A value the database refused: a data exception (class 22: our functions' own 22023 and
 * 22P02, and PostgreSQL's bad UUID, number out of range, NUL byte, too-long string…) or an
 * integrity violation (class 23), both about what the caller sent. Our functions put the
 * field in DETAIL; PostgreSQL's own errors name the column, when they can.
 */
function refusedValue(code: string, e: PgLikeError): HttpError | undefined {
  const field = code === PG.invalidParameter || code === PG.invalidText ? e.detail || e.column_name : e.column_name;
  if (code === PG.uniqueViolation) return new HttpError(409, "conflict", "that already exists", field || undefined);
  if (code.startsWith("22") || code.startsWith("23")) {
    return new HttpError(400, "invalid_request", e.message ?? "invalid request", field || undefined);
  }
  return undefined;
}

/**
 * The HTTP face of any error: HttpError as it is; the validation errors raised by the
 * SQL functions as 400/413 naming the field, and any other refused value as 400 (409 for
 * a unique key taken); a privilege refused (42501) as 403; a database that refuses or is unreachable,
 * or a transaction rolled back by a deadlock or serialization failure, as 503 with a
 * retry hint; everything else as a plain 500 that leaks nothing.
 */
export function toHttpError(thrown: unknown): HttpError {
  if (thrown instanceof HttpError) return thrown;
  const e = (thrown ?? {}) as PgLikeError;
  const code = typeof e.code === "string" ? e.code : "";
  const refused = refusedValue(code, e);
  if (refused) return refused;
  // Raised on purpose (not an admin) or by RLS and grants against the caller's own role.
  if (code === PG.insufficientPrivilege) {
    return new HttpError(403, "forbidden", e.message ?? "forbidden", e.detail || undefined);
  }
  if (code === PG.noDataFound) {
    return new HttpError(404, "not_found", e.message ?? "not found", e.detail || undefined);
  }
  if (code === PG.wrongState) {
    return new HttpError(409, "conflict", e.message ?? "conflict", e.detail || undefined);
  }
  if (code === PG.limitExceeded) {
    return new HttpError(413, "too_large", e.message ?? "too large", e.detail || undefined);
  }
  if (isDatabaseUnavailable(code)) {
    return new HttpError(503, "unavailable", "the database is unavailable; retry shortly", undefined, { "retry-after": "2" });
  }
  // The transaction was rolled back whole (nothing of it stays), so asking again is safe.
  if (code === PG.serializationFailure || code === PG.deadlockDetected) {
    return new HttpError(503, "busy", "the request collided with another; retry shortly", undefined, { "retry-after": "1" });
  }
  return new HttpError(500, "internal", "internal error; the event, if accepted, is safe and will be processed");
}

/**
 * Text with every credential blanked out: JWTs, bearer tokens, Supabase secret and
 * publishable keys, webhook secrets, API keys of the usual shapes. For anything that is
 * logged or stored (handler error messages, process logs).
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g, "[redacted jwt]")
    .replace(/\b(Bearer|Basic)\s+[\w.~+/=-]{8,}/gi, "$1 [redacted]")
    .replace(/\b(sb_secret_|sb_publishable_|whsec_|sk_live_|sk_test_|rk_live_|rk_test_|re_)[\w-]{6,}/g, "$1[redacted]")
    .replace(/\b(apikey|api_key|password|secret|token)(["']?\s*[:=]\s*["']?)[^\s"',;&]{6,}/gi, "$1$2[redacted]");
}
