/**
 * The fuzz tier's common ground (tests/security/fuzz*.test.ts): every route of every function
 * the bus serves, with a valid request for each and the caller that gets past its door; the
 * three callers an attacker can be; and a count of every row, to show nothing was stored.
 * The routes follow the one list of functions (src/marketplace/functions/index.ts) and the
 * demo's: a route's size limit, what it reads and who gets past its door come from its
 * definition; only a valid input is written here, and `missingRoutes` names any route of a
 * definition without one, so a new function cannot go unfuzzed.
 */
import { Webhook } from "standardwebhooks";
import { signStripe } from "../../src/bus/webhooks/signatures.ts";
import type { FetchHandler } from "../../src/bus/http.ts";
import type { Sql } from "../../src/bus/types.ts";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { createDemoFunctions, demoFunctions } from "../../src/marketplace/functions/demo.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { type FunctionDefinition, matchPath, type Route as DefinedRoute } from "../../src/bus/functions/pipeline.ts";
import { createFunctions, functions as listed } from "../../src/marketplace/functions/index.ts";
import { TEST_SECRET_KEY, testAuth, token } from "./auth.ts";
import { testBus, uuid } from "./bus.ts";
import { openShop } from "./marketplace.ts";

export type Caller = "server" | "anon" | "stranger";
export const CALLERS: Caller[] = ["server", "anon", "stranger"];

export interface Route {
  fn: string;
  /** The path after /functions/v1/<fn>. */
  sub?: string;
  method: "GET" | "POST";
  /** The caller that gets past the function's door to its input. */
  reaches: Caller;
  /** POST: a valid body, its size limit, and whether a key it does not know is refused. */
  body?: () => Record<string, unknown>;
  maxBytes?: number;
  strict?: boolean;
  /** Members (dotted paths) whose content is free-form: any JSON object is valid there. */
  free?: string[];
  /** POST: whether the body is read as JSON whatever its content-type (signed webhooks), or not read at all. */
  reads?: "json" | "any-type" | "nothing";
  /** GET: a valid query. */
  query?: () => Record<string, string>;
  /** Headers a valid request carries for this body (signatures). */
  sign?: (body: string) => Promise<Record<string, string>>;
}

/** A route as written here: its valid input; the rest comes from its definition (`complete`). */
type RouteInput = Omit<Route, "maxBytes" | "reads" | "reaches"> & { reaches?: Caller };

const definitions: readonly FunctionDefinition[] = [...listed, ...demoFunctions];

/** The route of the definition a fuzz route aims at. */
function definedRoute(r: { fn: string; method: string; sub?: string }): { definition: FunctionDefinition; route: DefinedRoute } | undefined {
  const definition = definitions.find((d) => d.name === r.fn);
  const route = definition?.routes.find((d) => d.method === r.method && (d.path === undefined || matchPath(d.path, r.sub ?? "/")));
  return definition && route ? { definition, route } : undefined;
}

/** Who gets past a door of each auth mode: the stranger is a signed-in user of no store. */
const REACHES = { server: "server", user: "stranger", anyone: "anon", none: "anon" } as const;

function complete(input: RouteInput): Route {
  const found = definedRoute(input);
  if (!found) throw new Error(`fuzz route ${input.method} ${input.fn}${input.sub ?? ""} matches no route of a defined function`);
  const { body, maxBytes = 128 * 1024 } = found.route.spec;
  const reads = body === "text" ? "any-type" : body ? "json" : input.method === "POST" ? "nothing" : undefined;
  return { ...input, reaches: input.reaches ?? REACHES[found.definition.auth], reads, ...(body ? { maxBytes } : {}) };
}

const STRIPE_SECRET = `whsec_${"s".repeat(32)}`;
const ACME_SECRET = `whsec_${Buffer.from("a".repeat(24)).toString("base64")}`;

/** A marketplace to aim at, the gateway as each caller reaches it, and the routes. */
export async function fuzzWorld(sql: Sql) {
  const shop = await openShop(sql, [{ name: "Fig", price: 100, stock: 5 }]);
  const stranger = uuid();
  await sql`insert into auth.users (id, email) values (${stranger}, ${`${stranger}@example.com`})`;
  const bus = testBus(sql, engineHandlers());
  const env = { STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, WEBHOOK_SECRET_ACME: ACME_SECRET };
  const functions: Record<string, FetchHandler> = { ...createFunctions(bus, undefined, testAuth, () => env), ...createDemoFunctions(bus) };
  const gateway = createGateway(functions);
  const strangerToken = await token(stranger);
  const credentials: Record<Caller, Record<string, string>> = {
    server: { apikey: TEST_SECRET_KEY }, anon: {}, stranger: { authorization: `Bearer ${strangerToken}` },
  };
  const event = () => ({ event_type: "fuzz.event", aggregate_type: "test", aggregate_id: uuid(), tenant_id: shop.storeId,
    idempotency_key: `fuzz-${uuid()}`, payload: { note: "n", nested: { list: ["x", { deep: "y" }] } } });
  const acmeSign = async (body: string) => {
    const id = `msg_${uuid()}`;
    const at = new Date();
    return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(ACME_SECRET).sign(id, at, body) };
  };
  const routes: Route[] = ([
    { fn: "process-event", method: "POST", reaches: "server", body: event, strict: true, free: ["payload"] },
    { fn: "process-event", method: "POST", reaches: "server", body: () => ({ event_id: uuid(), drain: false, max_events: 1 }), strict: true },
    { fn: "checkout", method: "POST", strict: true, body: () => ({ store_id: shop.storeId,
      customer_email: "f@example.com", payment_method: "card", items: [{ product_id: shop.products.Fig, quantity: 1 }], attribution: { utm_source: "x" } }) },
    { fn: "confirm-delivery", method: "POST", strict: true, body: () => ({ order_id: uuid(), customer_email: "f@example.com" }) },
    { fn: "retry-failed-events", method: "POST", strict: true, body: () => ({ budget_ms: 1000, max_events: 5 }) },
    { fn: "automations", method: "POST", strict: true, free: ["reactions.1.payload"], body: () => ({ store_id: shop.storeId,
      name: "n", trigger_pattern: "order.created", trigger_filter: { total_minor: { gte: 1 }, "customer.email": "a" },
      reactions: [{ type: "notify", title: "t" }, { type: "emit", event_type: "fuzz.done", payload: { k: "v" } }] }) },
    { fn: "automations", method: "GET", query: () => ({ store_id: shop.storeId }) },
    { fn: "automations-poll", method: "POST" },
    { fn: "metrics", method: "GET", query: () => ({}) },
    { fn: "metrics", sub: "/health", method: "GET", query: () => ({}) },
    { fn: "event-monitor", sub: "/actions", method: "POST", strict: true,
      body: () => ({ action_id: uuid(), kind: "redrive", event_type: "order.created", error: "e" }) },
    { fn: "event-monitor", sub: "/events", method: "GET",
      query: () => ({ type: "order.*", status: "failed,dead", store: shop.storeId, from: "2026-01-01T00:00:00Z", q: "x", limit: "5", cursor: "c" }) },
    { fn: "event-monitor", sub: "/stats", method: "GET", query: () => ({ window: "1h", type: "order.created", store: shop.storeId }) },
    { fn: "event-monitor", sub: `/events/${uuid()}`, method: "GET", query: () => ({}) },
    { fn: "event-monitor", sub: "/me", method: "GET", query: () => ({}) },
    { fn: "event-monitor", sub: "/actions", method: "GET", query: () => ({}) },
    { fn: "event-monitor", sub: "/alerts", method: "GET", query: () => ({}) },
    { fn: "event-monitor", sub: "/health", method: "GET", query: () => ({}) },
    { fn: "event-monitor", sub: "/alerts", method: "POST", strict: true,
      body: () => ({ op: "create", name: "n", kind: "lag", threshold: 60, event_type: "order.created", tenant_id: shop.storeId, window_minutes: 15, repeat_minutes: 60 }) },
    { fn: "event-monitor", sub: "/failures", method: "GET", query: () => ({ type: "order", tenant: shop.storeId }) },
    { fn: "event-monitor", sub: "/story", method: "GET", query: () => ({ q: "FX-00001" }) },
    { fn: "event-monitor", sub: "/bulk", method: "GET", query: () => ({ kind: "retry", type: "order", status: "failed,dead", q: "abcd1234" }) },
    { fn: "event-monitor", sub: "/routes", method: "GET", query: () => ({ window: "1h" }) },
    { fn: "event-monitor", sub: "/routes/waiting", method: "GET", query: () => ({ event_pattern: "order.*", handler_name: "fintech.create_escrow" }) },
    { fn: "event-monitor", sub: "/routes", method: "POST", strict: true,
      body: () => ({ action_id: uuid(), action: "pause", event_pattern: "order.created", handler_name: "fintech.create_escrow", reason: "r" }) },
    { fn: "event-monitor", sub: "/bulk", method: "POST", strict: true,
      body: () => ({ action_id: uuid(), kind: "discard", filter: { type: "order.created", status: "dead" }, reason: "spam" }) },
    { fn: "storefront", method: "GET", query: () => ({}) },
    { fn: "order-status", method: "GET", query: () => ({ order_id: uuid() }) },
    { fn: "my-orders", method: "GET", query: () => ({ limit: "20" }) },
    { fn: "webhooks", sub: "/stripe", method: "POST", free: ["data"],
      body: () => ({ id: `evt_${uuid()}`, type: "fuzz.thing", data: { object: { id: "pi_1", amount: 5 } } }),
      sign: async (body) => ({ "stripe-signature": await signStripe(STRIPE_SECRET, body) }) },
    { fn: "webhooks", sub: "/acme", method: "POST", free: ["data"],
      body: () => ({ type: "fuzz.thing", data: { a: 1, b: ["x"] } }), sign: acmeSign },
    { fn: "demo-pay", method: "POST", strict: true, body: () => ({ order_id: uuid() }) },
    { fn: "demo-deliver", method: "POST", strict: true, body: () => ({ order_id: uuid() }) },
  ] satisfies RouteInput[]).map(complete);

  /** One request to a route as a caller; `body` is sent as given (text or bytes) and signed when the route signs. */
  async function send(route: Route, caller: Caller, o: { method?: string; body?: string | Uint8Array<ArrayBuffer>; headers?: Record<string, string>; query?: string; path?: string } = {}) {
    const method = o.method ?? route.method;
    const text = typeof o.body === "string" ? o.body : o.body && new TextDecoder().decode(o.body);
    const signed = route.sign && text !== undefined ? await route.sign(text) : {};
    const path = o.path ?? `/functions/v1/${route.fn}${route.sub ?? ""}`;
    const query = o.query ?? (route.query ? new URLSearchParams(route.query()).toString() : "");
    const hasBody = method !== "GET" && method !== "HEAD" && o.body !== undefined;
    const headers = { ...(hasBody && typeof o.body === "string" ? { "content-type": "application/json" } : {}), ...credentials[caller], ...signed, ...o.headers };
    return await gateway(new Request(`http://localhost${path}${query ? `?${query}` : ""}`, { method, headers, body: hasBody ? o.body : undefined }));
  }

  return { shop, stranger, functions, gateway, routes, send, credentials };
}

/** The routes of the functions served (the list's and the demo's) that no route of the fuzz world aims at. */
export function missingRoutes(functions: Record<string, unknown>, routes: Route[]): string[] {
  return Object.keys(functions).flatMap((fn) => {
    const definition = definitions.find((d) => d.name === fn);
    if (!definition) return [`${fn} (not defined)`];
    return definition.routes
      .filter((d) => !routes.some((r) => definedRoute(r)?.route === d))
      .map((d) => `${d.method} ${fn}${d.path ?? ""}`);
  });
}

/** The number of rows of every table in `public` (listed from pg_catalog), as one comparable string. */
export async function rowCounts(sql: Sql): Promise<string> {
  // The application's tables (public) and the bus's (feyxa): a hostile call must store in neither.
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', c.relnamespace::regnamespace, c.relname) as name from pg_class c
    where c.relnamespace in ('public'::regnamespace, 'feyxa'::regnamespace) and c.relkind in ('r', 'p')
      and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')
    order by 1`;
  const [row] = await sql.unsafe(`select concat_ws(' ', ${tables.map((t) => `'${t.name}=' || (select count(*) from ${t.name})`).join(", ")}) as c`);
  return row.c as string;
}

/** An error answer as the contract wants it: JSON {error, message}, a field for bad input, no SQL or stack. */
export function contractProblem(status: number, text: string): string | undefined {
  if (status >= 500) return "a 5xx";
  if (status < 400) return undefined;
  let body: { error?: unknown; message?: unknown; field?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (typeof body.error !== "string" || typeof body.message !== "string") return "no error/message";
  if ([400, 405, 408, 413, 415].includes(status) && typeof body.field !== "string") return "names no field";
  if (/select |insert |update .* set|at \w+ \(|\bSQLSTATE\b/i.test(text)) return "leaks SQL or a stack";
  return undefined;
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
