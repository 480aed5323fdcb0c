/**
 * One HTTP pipeline for every function, composed once (as Hono composes its cors, jwt and
 * body-limit middleware), so a function's file holds only its own logic. In order:
 *
 *   trace       a SERVER span per request when an OpenTelemetry SDK is registered (telemetry/http-spans.ts)
 *   CORS        an OPTIONS preflight is answered 204; every answer, errors included, is labelled (cors.ts)
 *   method      405 naming the methods the function serves
 *   caller      the function's auth mode (caller.ts): 401/403, or the one 503 when auth is not configured
 *   route       the path after the function's name, matched against its routes: 404, or 405 for that path
 *   body        JSON: 415 unless JSON, 413 past maxBytes, 408 when it trickles, 400 naming the field
 *               (storable, then the route's zod schema); "text": the raw body (signed webhooks)
 *   query       parsed by the route's zod schema: 400 naming the field
 *   idempotency a route that declares `idempotent` answers a repeated Idempotency-Key with the
 *               first request's answer (422 for another request, 400 for a malformed key):
 *               idempotency.ts
 *   errors      whatever is thrown becomes JSON {error, message, field?} through toHttpError only
 *
 * The Node gateway (src/local, the tests) and the Deno entrypoints (supabase/functions) serve
 * the same definitions through serveFunction, so a function answers the same in both.
 */
import { z } from "zod";
import type { Caller } from "../auth.ts";
import type { Bus } from "../bus.ts";
import { withCors } from "../cors.ts";
import { HttpError } from "../errors.ts";
import { type FetchHandler, parseWith, readJson, readText, requireMethod } from "../http.ts";
import type { Resolver } from "../outbound.ts";
import { withServerSpan } from "../telemetry/http-spans.ts";
import { admit, type AuthMode, type AuthSource } from "./caller.ts";
import { fingerprintOf, idempotencyKeyOf, idempotently, keyOwnerOf } from "./idempotency.ts";

export { json } from "../http.ts";

export type Method = "GET" | "POST";
export type Env = Record<string, string | undefined>;
type BodySpec = z.ZodType | "text" | undefined;
type BodyOf<S> = S extends "text" ? string : S extends z.ZodType ? z.infer<S> : undefined;
type QueryOf<Q> = Q extends z.ZodType ? z.infer<Q> : undefined;

/** What the runtime adapter hands every function: read per request where it is configuration. */
export interface FunctionDeps {
  bus: Bus;
  /** How callers are verified; unset (undefined): every function that checks callers answers 503. */
  auth: AuthSource;
  /** The environment, read per request (drain limits, webhook secrets, the outbound allow-list). */
  env: () => Env;
  /** The runtime's DNS lookup, for the outbound guard; without it host names are refused. */
  resolve?: Resolver;
  /** Called with what became a 5xx (to log it). */
  onError?: (error: unknown) => void;
}

export interface RequestContext<B, Q> {
  request: Request;
  url: URL;
  /** The path after the function's name ("/" for none): /functions/v1/<name>/x locally, /<name>/x on Supabase. */
  path: string;
  /** The `:name` segments of the route's path. */
  params: Record<string, string>;
  caller: Caller;
  body: B;
  query: Q;
  bus: Bus;
  env: () => Env;
  resolve?: Resolver;
}

export interface RouteSpec<S extends BodySpec, Q extends z.ZodType | undefined> {
  /** POST: a zod schema (a JSON body), "text" (any content-type, read raw), or none (not read). */
  body?: S;
  /** The body's limit in bytes (413 past it); default 128 KiB. */
  maxBytes?: number;
  /** An empty body reads as {} (for functions whose input is optional). */
  emptyBody?: boolean;
  /** GET: the query string, as an object (a repeated key's values joined by commas). */
  query?: Q;
  /**
   * It creates something a client may ask for twice (a double-click, a retry after a
   * timeout): a request with an Idempotency-Key header runs once per key and caller, and
   * every repeat gets the first answer (idempotency.ts). A body field `idempotency_key` is
   * refused, naming the header.
   */
  idempotent?: boolean;
  handle(context: RequestContext<BodyOf<S>, QueryOf<Q>>): Promise<Response> | Response;
}

export interface Route {
  method: Method;
  /** "/events/:id"; undefined: any path. */
  path?: string;
  spec: RouteSpec<BodySpec, z.ZodType | undefined>;
}

/** `route("POST", …)` serves any path, `route("GET /events/:id", …)` that path only. */
export function route<S extends BodySpec = undefined, Q extends z.ZodType | undefined = undefined>(
  key: Method | `${Method} /${string}`,
  spec: RouteSpec<S, Q>,
): Route {
  const [method, path] = key.split(" ") as [Method, string | undefined];
  return { method, path, spec: spec as unknown as Route["spec"] };
}

export interface FunctionDefinition {
  /** The name it is served under: /functions/v1/<name>, and its Supabase function folder. */
  name: string;
  auth: AuthMode;
  routes: readonly Route[];
  /** Why the function is reachable without Supabase's verify_jwt: a line for config.toml. */
  note?: string;
}

export function defineFunction(definition: FunctionDefinition): FunctionDefinition {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) throw new Error(`function name ${definition.name}: lowercase letters, digits and dashes`);
  return Object.freeze(definition);
}

/** A definition as a web-standard handler, every step of the pipeline included. */
export function serveFunction(definition: FunctionDefinition, deps: FunctionDeps): FetchHandler {
  const methods = [...new Set(definition.routes.map((r) => r.method))];
  const namePath = new RegExp(`/${definition.name}(/.*)?$`);
  return withServerSpan(definition.name, withCors(async (request) => {
    requireMethod(request, ...methods);
    const caller = await admit(request, definition.auth, deps.auth);
    const url = new URL(request.url);
    const path = namePath.exec(url.pathname)?.[1]?.replace(/\/$/, "") || "/";
    const { route, params } = matchRoute(definition, request.method, path);
    const { spec } = route;
    const key = spec.idempotent ? idempotencyKeyOf(request) : undefined;
    const body = spec.body === "text"
      ? await readText(request, spec.maxBytes ?? DEFAULT_MAX_BYTES)
      : spec.body && await readJson(request, spec.idempotent ? withoutBodyKey(spec.body) : spec.body,
        { maxBytes: spec.maxBytes ?? DEFAULT_MAX_BYTES, allowEmpty: spec.emptyBody });
    const query = spec.query && parseWith(spec.query, queryObject(url));
    const handle = async () =>
      await spec.handle({ request, url, path, params, caller, body, query, bus: deps.bus, env: deps.env, resolve: deps.resolve });
    if (key === undefined) return await handle();
    const fingerprint = await fingerprintOf({ fn: definition.name, method: request.method, path, query: queryObject(url), body });
    return await idempotently({ sql: deps.bus.sql, owner: keyOwnerOf(caller), key, fingerprint, onError: deps.onError }, handle);
  }, deps.onError));
}

/** The route's body schema, refusing a body `idempotency_key` first (400 naming it): the key is a header here. */
function withoutBodyKey(schema: z.ZodType): z.ZodType {
  return z.unknown().superRefine((value, ctx) => {
    if (value && typeof value === "object" && Object.hasOwn(value, "idempotency_key")) {
      ctx.addIssue({ code: "custom", path: ["idempotency_key"], message: "send the key as the Idempotency-Key header, not in the body" });
    }
  }).pipe(schema);
}

/** Every definition served: a name → handler map, for the Node gateway (src/bus/functions/gateway.ts). */
export function serveFunctions(definitions: readonly FunctionDefinition[], deps: FunctionDeps): Record<string, FetchHandler> {
  return Object.fromEntries(definitions.map((d) => [d.name, serveFunction(d, deps)]));
}

const DEFAULT_MAX_BYTES = 128 * 1024;

function matchRoute(definition: FunctionDefinition, method: string, path: string): { route: Route; params: Record<string, string> } {
  const matches = definition.routes.flatMap((route) => {
    const params = route.path === undefined ? {} : matchPath(route.path, path);
    return params ? [{ route, params }] : [];
  });
  const found = matches.find((m) => m.route.method === method);
  if (found) return found;
  if (matches.length > 0) requireMethod({ method }, ...matches.map((m) => m.route.method));
  const paths = definition.routes.map((r) => r.path!.replace(/:(\w+)/g, "<$1>"));
  throw new HttpError(404, "not_found", `no route ${path}; try ${[...new Set(paths)].join(", ")}`);
}

/** The `:name` segments of `path` when it matches `pattern` ("/events/:id"), else undefined. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":") && got[i] !== "") params[want[i].slice(1)] = got[i]; // as sent: the route's code validates it
    else if (want[i] !== got[i]) return undefined;
  }
  return params;
}

/** The query string as an object; a repeated key's values are joined by commas (?status=a&status=b → "a,b"). */
function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of url.searchParams) out[key] = key in out ? `${out[key]},${value}` : value;
  return out;
}
