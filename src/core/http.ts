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
  const field = path.filter(Boolean).join(".") || undefined;
  throw new HttpError(400, "invalid_request", field ? `${field}: ${message}` : message, field);
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

/** How deeply a JSON value may nest (objects and arrays): enough for any real payload, far short of a stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * Throws a 400 naming the first field PostgreSQL could not keep exactly as sent:
 * - a string or key with NUL (\u0000: text and jsonb cannot hold it) or a lone UTF-16 surrogate;
 * - objects or arrays nested deeper than MAX_JSON_DEPTH;
 * - a number that is not finite (JSON's 1e400 parses to Infinity, stored as null) or beyond
 *   ±Number.MAX_SAFE_INTEGER (2^53 − 1) in magnitude: past it a double does not hold every
 *   integer (12345678901234567890123 would be stored rounded), so such numbers are refused
 *   from the parsed value, whatever their spelling (1e300 too); send them as strings.
 * Iterative, never recursive: it runs before anything that recurses (zod, JSON.stringify).
 * Decimals are kept as JavaScript reads them (0.1000000000000000000001 becomes 0.1).
 */
export function assertStorable(value: unknown, prefix?: string): void {
  interface Node { value: unknown; key?: string | number; parent?: Node; depth: number }
  const stack: Node[] = [{ value, key: prefix, depth: 0 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === "string") {
      if (!storableText(v)) refuse(node, textProblem(v));
    } else if (typeof v === "number") {
      if (!Number.isFinite(v)) refuse(node, "must be a finite number");
      if (Math.abs(v) > Number.MAX_SAFE_INTEGER) {
        refuse(node, `must be within ±${Number.MAX_SAFE_INTEGER} to be kept exactly; send larger numbers as strings`);
      }
    } else if (typeof v === "object" && v !== null) {
      if (node.depth >= MAX_JSON_DEPTH) refuse(node, `nests deeper than ${MAX_JSON_DEPTH} levels`);
      const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((item, i) => [i, item]) : Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const childNode: Node = { value: child, key, parent: node, depth: node.depth + 1 };
        if (typeof key === "string" && !storableText(key)) refuse(childNode, `the key ${textProblem(key)}`);
        stack.push(childNode);
      }
    }
  }
}

/** What PostgreSQL's text and jsonb cannot keep unchanged: NUL, a lone surrogate. */
const UNSTORABLE_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function storableText(text: string): boolean {
  return text.search(UNSTORABLE_CHAR) === -1; // search ignores the g flag's lastIndex
}

function textProblem(text: string): string {
  return text.includes("\u0000")
    ? "must not contain the NUL character (\\u0000), which PostgreSQL cannot store"
    : "must be well-formed Unicode (a lone surrogate cannot be stored)";
}

function refuse(node: { key?: string | number; parent?: unknown }, problem: string): never {
  const keys: string[] = [];
  for (let n: { key?: string | number; parent?: unknown } | undefined = node; n; n = n.parent as typeof n) {
    if (n.key !== undefined && n.key !== "") keys.push(printable(String(n.key)));
  }
  let field = keys.reverse().join(".");
  if (field.length > 200) field = `${field.slice(0, 199)}…`;
  throw new HttpError(400, "invalid_request", field ? `${field}: ${problem}` : problem, field || undefined);
}

/** A key as it can be shown: NUL and lone surrogates spelled as escapes, at most 64 characters. */
function printable(key: string): string {
  const shown = key.replace(UNSTORABLE_CHAR, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return shown.length > 64 ? `${shown.slice(0, 63)}…` : shown;
}

const tooLarge = (maxBytes: number) => new HttpError(413, "too_large", `the body is larger than ${maxBytes} bytes`);
