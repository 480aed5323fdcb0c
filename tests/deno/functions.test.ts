/**
 * The Deno entrypoints, as Supabase runs them: each test starts one with `deno run`,
 * sends it real HTTP requests, and checks the outcome in the test database
 * (DATABASE_URL, set by scripts/deno-test.ts).
 */
import { SignJWT } from "jose";
import postgres from "postgres";

const databaseUrl = Deno.env.get("DATABASE_URL");
if (!databaseUrl) throw new Error("run through `npm run test:deno`, which provides DATABASE_URL");
const root = new URL("../../", import.meta.url).pathname;

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function freePort(): number {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The project's secret key; Supabase hands functions SUPABASE_SECRET_KEYS as a JSON dictionary of them. */
const SECRET_KEY = "sb_secret_deno_test_key";

/** Runs `run` against the function started on a free port; `stdout`, when given, receives what it printed once it stopped. */
async function withFunction(name: string, run: (url: string) => Promise<void>, env: Record<string, string> = {}, stdout?: string[]): Promise<void> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", `supabase/functions/${name}/index.ts`],
    cwd: root,
    env: { SUPABASE_DB_URL: databaseUrl!, PORT: String(port), SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }), ...env },
    stdout: stdout ? "piped" : "null",
    stderr: "inherit",
  }).spawn();
  const printed = stdout ? new Response(child.stdout).text() : undefined;
  try {
    const url = `http://127.0.0.1:${port}/`;
    for (let i = 0; ; i++) {
      try {
        await (await fetch(url, { method: "OPTIONS" })).body?.cancel();
        break;
      } catch {
        if (i > 200) throw new Error(`${name} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await run(url);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    if (printed) stdout!.push(...(await printed).split("\n").filter(Boolean));
  }
}

const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });

/** A user in auth.users and an access token for them, signed with the project's JWT secret. */
async function signedInUser(email: string, jwtSecret: string): Promise<{ id: string; token: string }> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, email) values (${id}, ${email})`;
  const token = await new SignJWT({ role: "authenticated", email })
    .setProtectedHeader({ alg: "HS256" }).setSubject(id).setAudience("authenticated").setExpirationTime("5m")
    .sign(new TextEncoder().encode(jwtSecret));
  return { id, token };
}

Deno.test({
  name: "process-event (Deno) emits, processes and records an event",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await withFunction("process-event", async (url) => {
      const aggregateId = crypto.randomUUID();
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", apikey: SECRET_KEY },
        body: JSON.stringify({ event_type: "deno.checked", aggregate_type: "order", aggregate_id: aggregateId, payload: { ok: true } }),
      });
      const body = await res.json();
      assert(res.status === 201, `expected 201, got ${res.status}: ${JSON.stringify(body)}`);
      assert(body.status === "completed", `expected completed (no subscriber), got ${body.status}`);
      const [row] = await sql`select status, aggregate_id from feyxa.events_log where id = ${body.event_id}::uuid`;
      assert(row?.status === "completed" && row.aggregate_id === aggregateId, `the event is not stored as completed: ${JSON.stringify(row)}`);

      const bad = await fetch(url, { method: "POST", headers: { "content-type": "application/json", apikey: SECRET_KEY }, body: JSON.stringify({ event_type: "x" }) });
      const error = await bad.json();
      assert(bad.status === 400 && error.field === "event_type", `expected 400 on event_type, got ${bad.status} ${JSON.stringify(error)}`);
      assert(bad.headers.get("access-control-allow-origin") === "*", "the 400 carries no CORS header");

      // A page on another origin calls it through supabase-js: preflighted.
      const preflight = await fetch(url, {
        method: "OPTIONS",
        headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, apikey, content-type, x-client-info" },
      });
      await preflight.body?.cancel();
      const allowed = preflight.headers.get("access-control-allow-headers") ?? "";
      assert(preflight.status === 204 && preflight.headers.get("access-control-allow-origin") === "*", `preflight: ${preflight.status}`);
      for (const header of ["authorization", "apikey", "content-type", "x-client-info"]) assert(allowed.includes(header), `preflight does not allow ${header}: ${allowed}`);
    });
  },
});

Deno.test({
  name: "event-monitor (Deno) answers preflights, refuses anonymous callers, reads as the signed-in user",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const secret = "deno-monitor-secret-0123456789abcdef";
    const { id: admin, token } = await signedInUser("deno-admin@example.com", secret);
    await sql`insert into marketplace_admins (user_id) values (${admin})`;
    await withFunction("event-monitor", async (url) => {
      const preflight = await fetch(`${url}event-monitor/events`, { method: "OPTIONS" });
      await preflight.body?.cancel();
      assert(preflight.status === 204 && preflight.headers.get("access-control-allow-origin") === "*", `preflight: ${preflight.status}`);
      const anonymous = await fetch(`${url}event-monitor/me`);
      assert(anonymous.status === 401, `expected 401 without a token, got ${anonymous.status} ${await anonymous.text()}`);
      const me = await fetch(`${url}event-monitor/me`, { headers: { authorization: `Bearer ${token}` } });
      const body = await me.json();
      assert(me.status === 200 && body.is_admin === true && body.user_id === admin, `unexpected /me ${me.status} ${JSON.stringify(body)}`);
      const events = await fetch(`${url}event-monitor/events?limit=5`, { headers: { authorization: `Bearer ${token}` } });
      assert(events.status === 200 && Array.isArray((await events.json()).events), `unexpected /events ${events.status}`);
    }, { FEYXA_JWT_SECRET: secret });
  },
});

/**
 * Posts an event to process-event whose one route names a handler no code registers (its run
 * fails), with `env` and `headers`; `meanwhile` runs before the function stops. Returns the
 * event's id and the lines the function printed, each parsed as JSON (a line that is not fails).
 */
const ghostOf = (type: string) => `ghost.${type.replace(/\W/g, "_")}`;

async function postToAGhost(
  type: string, env: Record<string, string>, headers: Record<string, string> = {}, meanwhile = async () => {},
): Promise<{ eventId: string; lines: Record<string, unknown>[] }> {
  await sql`insert into feyxa.event_subscriptions (event_pattern, handler_name) values (${type}, ${ghostOf(type)})`;
  const printed: string[] = [];
  let eventId = "";
  await withFunction("process-event", async (url) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", apikey: SECRET_KEY, ...headers },
      body: JSON.stringify({ event_type: type, aggregate_type: "order", aggregate_id: crypto.randomUUID(), payload: {} }),
    });
    eventId = (await res.json()).event_id;
    assert(res.status === 201, `expected 201, got ${res.status}`);
    await meanwhile();
  }, env, printed);
  await sql`delete from feyxa.event_subscriptions where event_pattern = ${type}`;
  const lines = printed.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`a line that is not JSON: ${line}`);
    }
  });
  return { eventId, lines };
}

Deno.test({
  name: "process-event (Deno) logs JSON lines naming the function: its start, and a failed handler run with its event",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { eventId, lines } = await postToAGhost("deno.logged", { FEYXA_LOG_LEVEL: "debug" });
    const all = JSON.stringify(lines);
    assert(lines.every((l) => l.function === "process-event" && typeof l.time === "string" && typeof l.level === "string"), `lines without function, time or level: ${all}`);
    assert(lines.some((l) => l.msg === "start" && l.process === "edge"), `no start line: ${all}`);
    const failed = lines.find((l) => l.msg === "handler failed");
    assert(failed?.event_id === eventId && failed.handler === ghostOf("deno.logged") && failed.level === "warn", `no failed-run line for ${eventId}: ${all}`);
  },
});

Deno.test({
  name: "process-event (Deno) refuses a bad setting with a 500 naming it, and names a setting set where it does not apply",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const post = (url: string) => fetch(url, { method: "POST", headers: { "content-type": "application/json", apikey: SECRET_KEY }, body: "{}" });
    await withFunction("process-event", async (url) => {
      const res = await post(url);
      const body = await res.json();
      assert(res.status === 500 && body.error === "misconfigured", `expected a 500 misconfigured, got ${res.status} ${JSON.stringify(body)}`);
      assert(body.message.startsWith("FEYXA_LEASE_MS must be a whole number from 1,000"), `the message names neither the setting nor its range: ${body.message}`);
    }, { FEYXA_LEASE_MS: "soon" });
    const printed: string[] = [];
    await withFunction("process-event", async (url) => void await (await post(url)).body?.cancel(), { FEYXA_POLL_MS: "100" }, printed);
    const ignored = printed.map((line) => JSON.parse(line) as Record<string, unknown>).find((l) => l.msg === "setting ignored" && l.setting === "FEYXA_POLL_MS");
    assert(ignored?.level === "warn" && ignored.reason === "applies to npm start, npm run dispatcher, not to Edge Functions", `no warning naming FEYXA_POLL_MS: ${printed.join("\n")}`);
  },
});

Deno.test({
  name: "process-event (Deno) writes the deployed code's routes on its first call",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // As if an older deploy had dropped this route: the new code declares it again.
    const route = () => sql`select is_active, retired_at from feyxa.event_subscriptions where managed_by = 'marketplace' and handler_name = 'trust.auto_assign'`;
    await sql`update feyxa.event_subscriptions set is_active = false, retired_at = now() where managed_by = 'marketplace' and handler_name = 'trust.auto_assign'`;
    await withFunction("process-event", async (url) => {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", apikey: SECRET_KEY }, body: "{}" });
      await res.body?.cancel();
      const [row] = await route();
      assert(row?.is_active === true && row.retired_at === null, `the route was not synced: ${JSON.stringify(row)}`);
    });
  },
});

Deno.test({
  name: "process-event (Deno) with OTEL_DENO exports its spans over OTLP, in the caller's trace, and logs the trace id",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // An OTLP/HTTP collector (JSON): what Deno's own OpenTelemetry sends once OTEL_DENO=true.
    type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string };
    const spans: OtlpSpan[] = [];
    const collector = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
      const body = await req.json();
      if (new URL(req.url).pathname === "/v1/traces") {
        for (const resource of body.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans.push(...scope.spans);
      }
      return Response.json({});
    });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const { eventId, lines } = await postToAGhost("deno.traced", {
      OTEL_DENO: "true", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_SERVICE_NAME: "process-event", OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.addr as Deno.NetAddr).port}`,
    }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, async () => {
      // Until the three are in: the attempt's span ends after its handler's, maybe in a later batch.
      const expected = ["feyxa.emit deno.traced", "feyxa.attempt deno.traced", `feyxa.handler ${ghostOf("deno.traced")}`];
      for (let i = 0; i < 200 && !expected.every((name) => spans.some((s) => s.name === name)); i++) await new Promise((r) => setTimeout(r, 50));
    });
    await collector.shutdown();
    const ours = spans.filter((s) => s.traceId === traceId);
    const named = (name: string) => ours.find((s) => s.name === name);
    for (const name of ["feyxa.emit deno.traced", "feyxa.attempt deno.traced", `feyxa.handler ${ghostOf("deno.traced")}`]) {
      assert(named(name), `no span ${name} in the caller's trace: ${JSON.stringify(spans.map((s) => [s.name, s.traceId]))}`);
    }
    assert(named(`feyxa.handler ${ghostOf("deno.traced")}`)!.parentSpanId === named("feyxa.attempt deno.traced")!.spanId, "the handler run's span is not the attempt's child");
    const failed = lines.find((l) => l.msg === "handler failed");
    assert(failed?.event_id === eventId && failed.trace_id === traceId, `no failed-run line with the trace id: ${JSON.stringify(lines)}`);
  },
});

Deno.test({
  name: "metrics (Deno) answers the server only, in Prometheus' text format, with the database's figures",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const secret = "deno-metrics-secret-0123456789abcdef";
    const { token } = await signedInUser("deno-metered@example.com", secret);
    await sql`select feyxa.emit_event('deno.metered', 'order', gen_random_uuid(), null, '{}'::jsonb) from generate_series(1, 3)`;
    await withFunction("metrics", async (url) => {
      const anonymous = await fetch(url);
      await anonymous.body?.cancel();
      assert(anonymous.status === 401, `metrics answered ${anonymous.status} to an anonymous caller`);
      const signedIn = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await signedIn.body?.cancel();
      assert(signedIn.status === 403, `metrics answered ${signedIn.status} to a signed-in user`);
      const res = await fetch(url, { headers: { apikey: SECRET_KEY } });
      const text = await res.text();
      assert(res.status === 200 && res.headers.get("content-type")?.startsWith("text/plain; version=0.0.4"), `unexpected answer ${res.status} ${res.headers.get("content-type")}`);
      for (const line of ["# TYPE feyxa_events gauge", "# TYPE feyxa_handler_runs_total counter", 'feyxa_queue_due{type="deno.metered"} 3']) {
        assert(text.split("\n").includes(line), `no line ${line} in:\n${text}`);
      }
    }, { FEYXA_JWT_SECRET: secret, FEYXA_METRICS_SETTLE_MS: "0" });
  },
});

Deno.test({
  name: "retry-failed-events (Deno) answers with a drain summary, and reports its isolate alive as an edge worker",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const [{ id }] = await sql`select feyxa.emit_event('deno.swept', 'order', gen_random_uuid(), null, '{}'::jsonb) as id`;
    await withFunction("retry-failed-events", async (url) => {
      const anonymous = await fetch(url, { method: "POST" });
      await anonymous.body?.cancel();
      assert(anonymous.status === 401, `retry-failed-events answered ${anonymous.status} to an anonymous caller`);
      const res = await fetch(url, { method: "POST", headers: { apikey: SECRET_KEY } });
      const summary = await res.json();
      assert(res.status === 200 && summary.claimed >= 1, `unexpected answer ${res.status} ${JSON.stringify(summary)}`);
      const [row] = await sql`select status from feyxa.events_log where id = ${id}::uuid`;
      assert(row.status === "completed", `the pending event was not swept: ${row.status}`);
      // The health verdict's heartbeat (src/bus/heartbeats.ts): the function is the place, no host.
      const beats = await sql`select runtime, host, stopped_at from feyxa.worker_heartbeats where role = 'retry-failed-events'`;
      assert(beats.length === 1 && beats[0].runtime === "edge" && beats[0].host === null && beats[0].stopped_at === null,
        `unexpected heartbeats ${JSON.stringify(beats)}`);
    });
    await sql.end();
  },
});
