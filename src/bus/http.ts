/**
 * Web-standard HTTP helpers shared by every function: JSON answers, JSON bodies read
 * with a size limit and checked by a zod schema, and errors that say what to fix.
 */
import type { z } from "zod";
import { HttpError, toHttpError } from "./errors.ts";
import { assertStorable, parseJsonText, printable } from "./storable-json.ts";

export { assertStorable, MAX_JSON_DEPTH, parseJsonText } from "./storable-json.ts";

export type FetchHandler = (request: Request) => Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function errorResponse(thrown: unknown, onUnexpected?: (error: unknown) => void): Response {
  const error = toHttpError(thrown);
  if (error.status >= 500 && onUnexpected) onUnexpected(thrown);
  return json(error.body(), error.status, error.headers);
}

/** Wraps a handler so that whatever it throws becomes a clean JSON error. */
export function withErrors(handler: FetchHandler, onUnexpected?: (error: unknown) => void): FetchHandler {
  return async (request) => {
    try {
      return await handler(request);
    } catch (thrown) {
      return errorResponse(thrown, onUnexpected);
    }
  };
}

export function requireMethod(request: { method: string }, ...methods: string[]): void {
  if (!methods.includes(request.method)) {
    throw new HttpError(405, "method_not_allowed", `use ${methods.join(" or ")}`, "method", { allow: methods.join(", ") });
  }
}

/** How long a body may take to arrive, whole: a client trickling it byte by byte (slowloris) is cut off. */
export const BODY_DEADLINE_MS = 10_000;

export interface BodyLimits {
  /** 413 past this many bytes, declared or streamed. */
  maxBytes: number;
  /** 408 when the whole body has not arrived by then. */
  deadlineMs?: number;
}

/**
 * Reads a JSON body: 415 unless it is JSON (UTF-8, the only charset JSON has), 413 past
 * maxBytes, 408 past the deadline, 400 for malformed JSON, 400 naming the first failing
 * field when it does not match the schema or holds what PostgreSQL could not keep.
 * An empty body reads as {} when allowEmpty (for functions whose input is optional).
 */
export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  { maxBytes = 128 * 1024, allowEmpty = false, deadlineMs }: Partial<BodyLimits> & { allowEmpty?: boolean } = {},
): Promise<z.infer<S>> {
  const text = await readText(request, maxBytes, deadlineMs);
  if (text.trim() === "" && allowEmpty) return parseWith(schema, {});
  const contentType = request.headers.get("content-type") ?? "";
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (!/^\s*application\/([\w.-]+\+)?json\s*(;|$)/i.test(contentType) || (charset && !/^utf-?8$/i.test(charset))) {
    throw new HttpError(415, "unsupported_media_type", "send the body as JSON (UTF-8) with content-type: application/json", "content-type");
  }
  return parseWith(schema, parseJsonText(text));
}

/**
 * Checks a value against a schema; a mismatch is a 400 naming the field (under `prefix`, e.g. "payload").
 * The value is first checked to be JSON that PostgreSQL keeps as sent (assertStorable), so
 * neither zod nor anything after it meets a NUL, a 10,000-deep nesting or a rounded number.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.infer<S> {
  assertStorable(value, prefix);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [prefix, ...issue.path.map(String)];
  let message = issue.message;
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) {
    // Name the first unknown key, not all of them (there may be thousands).
    path.push(printable(issue.keys[0]));
    message = issue.keys.length > 1 ? `is not a known field (nor are ${issue.keys.length - 1} others)` : "is not a known field";
  }
  const field = path.filter(Boolean).join(".") || "body"; // the whole body is of the wrong shape
  throw new HttpError(400, "invalid_request", `${field}: ${message}`, field);
}

/**
 * The body as text: 415 if it is compressed (content-encoding), 413 past maxBytes (declared
 * or streamed), 408 unless it arrived whole within deadlineMs, 400 unless valid UTF-8 (a
 * byte-order mark is dropped). For signed bodies, read before parsing.
 */
export async function readText(request: Request, maxBytes: number, deadlineMs = BODY_DEADLINE_MS): Promise<string> {
  const encoding = request.headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding && encoding !== "identity") {
    throw new HttpError(415, "unsupported_media_type", `send the body uncompressed (content-encoding ${encoding} is not read)`, "content-encoding");
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return "";
  const reader = request.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError(408, "body_timeout", `the body did not arrive whole within ${deadlineMs} ms`, "body", { connection: "close" })), deadlineMs);
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(value);
    }
  } catch (error) {
    reader.cancel().catch(() => {}); // stop reading; the adapter deals with what is left
    throw error instanceof HttpError ? error : new HttpError(400, "unreadable_body", "the body could not be read whole", "body");
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "invalid_encoding", "the body is not valid UTF-8", "body");
  }
}

const tooLarge = (maxBytes: number) => new HttpError(413, "too_large", `the body is larger than ${maxBytes} bytes`, "body");
