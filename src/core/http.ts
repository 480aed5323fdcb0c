/**
 * Web-standard HTTP helpers shared by every function: JSON answers, JSON bodies read
 * with a size limit and checked by a zod schema, and errors that say what to fix.
 */
import type { z } from "zod";
import { HttpError, toHttpError } from "./errors.ts";

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

export function requireMethod(request: Request, ...methods: string[]): void {
  if (!methods.includes(request.method)) {
    throw new HttpError(405, "method_not_allowed", `use ${methods.join(" or ")}`, undefined, { allow: methods.join(", ") });
  }
}

/**
 * Reads a JSON body: 415 unless it is JSON, 413 past maxBytes, 400 for malformed JSON,
 * 400 naming the first failing field when it does not match the schema.
 * An empty body reads as {} when allowEmpty (for functions whose input is optional).
 */
export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  { maxBytes = 128 * 1024, allowEmpty = false } = {},
): Promise<z.infer<S>> {
  const text = await readText(request, maxBytes);
  if (text.trim() === "" && allowEmpty) return parseWith(schema, {});
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new HttpError(415, "unsupported_media_type", "send the body as JSON with content-type: application/json");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
  return parseWith(schema, body);
}

/** Checks a value against a schema; a mismatch is a 400 naming the field (under `prefix`, e.g. "payload"). */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix?: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join(".") || undefined;
  throw new HttpError(400, "invalid_request", field ? `${field}: ${issue.message}` : issue.message, field);
}

/** The body as text: 413 past maxBytes (declared or streamed), 400 unless valid UTF-8. For signed bodies, read before parsing. */
export async function readText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
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
    throw new HttpError(400, "invalid_encoding", "the body is not valid UTF-8");
  }
}

const tooLarge = (maxBytes: number) => new HttpError(413, "too_large", `the body is larger than ${maxBytes} bytes`);
