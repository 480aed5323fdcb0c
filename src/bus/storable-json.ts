/**
 * JSON that PostgreSQL keeps exactly as sent, or a 400 naming the first field it could not:
 * - a string or key with NUL (\u0000: text and jsonb cannot hold it) or a lone UTF-16 surrogate;
 * - objects or arrays nested deeper than MAX_JSON_DEPTH;
 * - a number that is not finite (JSON's 1e400 parses to Infinity, stored as null), beyond
 *   ±Number.MAX_SAFE_INTEGER (2^53 − 1) in magnitude (a double does not hold every integer
 *   past it, and the handlers read payloads as doubles), or whose digits a double does not
 *   keep (1e-400 reads as 0, 0.1000000000000000000001 as 0.1, -0 as 0): the text is checked,
 *   since the parsed value no longer shows what was lost.
 * Iterative, never recursive: it runs before anything that recurses (zod, JSON.stringify).
 */
import { HttpError } from "./errors.ts";

/** How deeply a JSON value may nest (objects and arrays): enough for any real payload, far short of a stack. */
export const MAX_JSON_DEPTH = 64;

type Key = string | number;

/** The body's text as JSON: 400 naming the body when it does not parse, naming the field when a number would not be kept. */
export function parseJsonText(text: string, prefix?: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON", prefix ?? "body");
  }
  assertExactNumbers(text, prefix);
  return value;
}

/** Throws a 400 naming the first value or key of `value` PostgreSQL could not keep (see the file's docblock). */
export function assertStorable(value: unknown, prefix?: string): void {
  interface Node { value: unknown; key?: Key; parent?: Node; depth: number }
  const pathOf = (node: Node) => {
    const keys: Key[] = [];
    for (let n: Node | undefined = node; n; n = n.parent) if (n.key !== undefined) keys.push(n.key);
    return keys.reverse();
  };
  const stack: Node[] = [{ value, key: prefix, depth: 0 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === "string") {
      if (!storableText(v)) refuse(pathOf(node), textProblem(v));
    } else if (typeof v === "number") {
      const problem = numberProblem(v);
      if (problem) refuse(pathOf(node), problem);
    } else if (typeof v === "object" && v !== null) {
      if (node.depth >= MAX_JSON_DEPTH) refuse(pathOf(node), `nests deeper than ${MAX_JSON_DEPTH} levels`);
      const entries: [Key, unknown][] = Array.isArray(v) ? v.map((item, i) => [i, item]) : Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i];
        const childNode: Node = { value: child, key, parent: node, depth: node.depth + 1 };
        if (typeof key === "string" && !storableText(key)) refuse(pathOf(childNode), `the key ${textProblem(key)}`);
        stack.push(childNode);
      }
    }
  }
}

/** What is wrong with a number (given as its JSON text when there is one), or undefined. */
function numberProblem(n: number, text?: string): string | undefined {
  if (!Number.isFinite(n)) return "must be a finite number";
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    return `must be within ±${Number.MAX_SAFE_INTEGER} to be kept exactly; send larger numbers as strings`;
  }
  if (text === undefined || decimal(text) === decimal(String(n))) return undefined;
  if (Object.is(n, -0)) return "is a negative zero, which would be stored as 0; send 0";
  return `has more digits than can be kept (it would be stored as ${String(n)}); send it as a string`;
}

/** A number's text as sign, significant digits and exponent, so that 1.50e2, 150 and 150.0 compare equal. */
function decimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return text;
  const fraction = m[3] ?? "";
  const all = `${m[2]}${fraction}`.replace(/^0+/, "");
  const digits = all.replace(/0+$/, "");
  if (digits === "") return `${m[1]}0`;
  return `${m[1]}${digits}e${Number(m[4] ?? 0) - fraction.length + (all.length - digits.length)}`;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\]|\\.)*"/y;

/**
 * Walks valid JSON text (it parsed) with a stack of keys and indices, checking each
 * number's digits; iterative, so a 10,000-deep nesting costs a stack of 10,000 entries only.
 */
function assertExactNumbers(text: string, prefix?: string): void {
  const path: { key?: Key; inObject: boolean; expectingKey: boolean }[] = [];
  const field = () => [prefix, ...path.map((p) => p.key)].filter((k): k is Key => k !== undefined);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = path[path.length - 1];
    if (c === '"') {
      STRING.lastIndex = i;
      const raw = STRING.exec(text)![0];
      if (top?.inObject && top.expectingKey) {
        top.key = JSON.parse(raw) as string;
        top.expectingKey = false;
      }
      i += raw.length - 1;
    } else if (c === "{") path.push({ inObject: true, expectingKey: true });
    else if (c === "[") path.push({ key: 0, inObject: false, expectingKey: false });
    else if (c === "}" || c === "]") path.pop();
    else if (c === ",") {
      if (top?.inObject) top.expectingKey = true;
      else if (top) top.key = (top.key as number) + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const raw = NUMBER.exec(text)![0];
      const problem = numberProblem(Number(raw), raw);
      if (problem) refuse(field(), problem);
      i += raw.length - 1;
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

function refuse(path: Key[], problem: string): never {
  let field = path.map((k) => printable(String(k))).filter((k) => k !== "").join(".") || "body"; // the body itself
  if (field.length > 200) field = `${field.slice(0, 199)}…`;
  throw new HttpError(400, "invalid_request", `${field}: ${problem}`, field);
}

/** A key as it can be shown: NUL and lone surrogates spelled as escapes, at most 64 characters. */
export function printable(key: string): string {
  const shown = key.replace(UNSTORABLE_CHAR, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return shown.length > 64 ? `${shown.slice(0, 63)}…` : shown;
}
