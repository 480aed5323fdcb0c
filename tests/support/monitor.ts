/** Helpers for the monitor's tests: users, stores, tokens and requests to event-monitor. */
import type { Bus } from "../../src/bus/bus.ts";
import type { Sql } from "../../src/bus/types.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { createFunctions } from "../../src/marketplace/functions/index.ts";
import { signAccessToken } from "../../src/local/dev-login.ts";
import { uuid } from "./bus.ts";

export const JWT_SECRET = "monitor-test-secret-of-at-least-32-bytes!";

export interface Person {
  id: string;
  email: string;
  token: string;
}

export async function person(sql: Sql, email: string, role: { admin?: boolean; stores?: string[] } = {}): Promise<Person> {
  const id = uuid();
  await sql`insert into auth.users (id, email) values (${id}, ${email})`;
  if (role.admin) await sql`insert into marketplace_admins (user_id) values (${id})`;
  for (const store of role.stores ?? []) await sql`insert into store_members (store_id, user_id, role) values (${store}, ${id}, 'staff')`;
  return { id, email, token: await signAccessToken(JWT_SECRET, { id, email }) };
}

export async function store(sql: Sql, name: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`insert into stores (name, slug) values (${name}, ${name.toLowerCase().replace(/\W+/g, "-")}) returning id`;
  return row.id;
}

/** The gateway with event-monitor verifying tokens signed with JWT_SECRET. */
export function monitorGateway(bus: Bus) {
  return createGateway(createFunctions(bus, undefined, () => ({ jwtSecret: JWT_SECRET })));
}

export function monitorClient(gateway: ReturnType<typeof monitorGateway>) {
  const base = "http://localhost:54321/functions/v1/event-monitor";
  return {
    get: (who: Person | undefined, path: string) =>
      gateway(new Request(`${base}${path}`, { headers: who ? { authorization: `Bearer ${who.token}` } : {} })),
    post: (who: Person, path: string, body: unknown) =>
      gateway(new Request(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${who.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      })),
  };
}

/** How far the page scrolls sideways (0 when it fits its viewport). */
export async function horizontalOverflow(page: import("playwright-core").Page): Promise<number> {
  return await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** The outermost elements that stick out past the right edge (for a failing overflow check's message). */
export async function overflowing(page: import("playwright-core").Page): Promise<string> {
  return await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll<HTMLElement>("body *")].filter((el) => el.getBoundingClientRect().right > width + 0.5);
    const chain = (el: HTMLElement | null): string[] => (el ? [...chain(el.parentElement), `${el.tagName.toLowerCase()}.${el.className}:${Math.round(el.getBoundingClientRect().right)}/${el.scrollWidth}`] : []);
    return out.filter((el) => !out.includes(el.parentElement!)).slice(0, 5).map((el) => chain(el).join(" > ")).join(", ");
  });
}

/**
 * What an operator cannot reach without scrolling sideways: boxes of the page's main part
 * that scroll sideways (a table wider than its card), and controls (buttons, links, fields)
 * that lie past the screen's edges.
 */
export async function controlsOutOfReach(page: import("playwright-core").Page): Promise<string[]> {
  return await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scrolled = [...document.querySelectorAll<HTMLElement>("main .scroll")].filter((box) => box.scrollWidth > box.clientWidth + 1);
    const controls = [...document.querySelectorAll<HTMLElement>("main button, main a, main input, main select")];
    return [
      ...scrolled.map((box) => `scrolls sideways: ${box.querySelector("table")?.getAttribute("data-testid") ?? box.className}`),
      ...controls.filter((c) => {
        const r = c.getBoundingClientRect();
        return r.width > 0 && (r.left < -0.5 || r.right > width + 0.5);
      }).map((c) => `off-screen: ${c.tagName.toLowerCase()} ${c.textContent?.trim().slice(0, 40)}`),
    ];
  });
}

/** Boxes that scroll (either way) and that the keyboard cannot reach: not in the Tab order, nothing focusable inside. */
export async function unreachableScrollers(page: import("playwright-core").Page): Promise<string[]> {
  return await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("body *")].filter((el) => {
      const style = getComputedStyle(el);
      const scrolls = (/(auto|scroll)/.test(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
        || (/(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1);
      return scrolls && el.tabIndex < 0 && !el.querySelector("a[href], button, input, select, textarea, [tabindex]");
    }).map((el) => `${el.tagName.toLowerCase()}.${el.className}`));
}

/**
 * English words left on a page shown in French: the visible text, without what is data
 * rather than words of the page (event types, handler names, ids, error messages, payloads:
 * monospaced or error text, charts' SVG), nor what is marked as another language (lang="en").
 */
export async function englishWords(page: import("playwright-core").Page): Promise<string[]> {
  const text = await page.evaluate(() => {
    const data = ".mono, .error-cell, .error-text, .error, .fingerprint, .payload, .notice-message, [lang]:not(html), svg, script, style, code, q, .sr-only:empty";
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts: string[] = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (parent && !parent.closest(data) && parent.closest("[hidden]") === null) parts.push(node.textContent ?? "");
    }
    // What a screen reader reads that is no text node: accessible names and placeholders.
    for (const el of document.querySelectorAll<HTMLElement>("[aria-label], [placeholder], [title]")) {
      if (!el.closest(data)) parts.push(el.getAttribute("aria-label") ?? "", el.getAttribute("placeholder") ?? "");
    }
    return parts.join(" ");
  });
  const ENGLISH = /\b(the|and|of|to|with|worker|workers|handler|handlers|admin|retry|retries|failed|dead|pending|events?|runs?|attempts?|queue|success|live|paused|window|search|state|error|errors|store|show|none|every|waiting|email|webhooks?|throughput|skip|content|sign|signed|language|views?|trail|rules?|notices?)\b/gi;
  return [...new Set(text.match(ENGLISH) ?? [])];
}

/** axe-core's serious and critical violations on the page as it is now, as "rule: target" lines. */
export async function seriousViolations(page: import("playwright-core").Page): Promise<string[]> {
  const { default: AxeBuilder } = await import("@axe-core/playwright");
  // The WCAG 2.1 A and AA rules (where serious and critical findings come from), not the best practices.
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} ${n.failureSummary?.split("\n")[1] ?? ""}`.trim()));
}

/**
 * `count` events straight into the log, one every `spacingSeconds` back from now, as the
 * state functions would have left them: five types; 1 in 100 failed (due in an hour), 1 in
 * 97 dead (its error naming its own payout and amount), the rest completed; 1 in 50 of
 * `storeId`; idempotency keys `ev-<i>`; the open ones in event_queue. Then ANALYZE.
 */
export async function seedEvents(sql: Sql, count: number, storeId: string, spacingSeconds = 1): Promise<void> {
  await sql`
    insert into feyxa.events_log (event_type, aggregate_type, aggregate_id, tenant_id, idempotency_key, status, next_retry_at,
                                  error_message, created_at)
    select (array['order.created', 'order.paid', 'payout.requested', 'delivery.shipped', 'ticket.created'])[1 + i % 5], 'order',
           gen_random_uuid(), case when i % 50 = 0 then ${storeId}::uuid else gen_random_uuid() end, 'ev-' || i,
           case when i % 100 = 0 then 'failed' when i % 97 = 0 then 'dead' else 'completed' end,
           case when i % 100 = 0 then now() + interval '1 hour' end,
           case when i % 97 = 0 then 'fintech.pay: payout ' || gen_random_uuid() || ' of ' || i || ' XOF refused' end,
           now() - make_interval(secs => i * ${spacingSeconds}::float8)
    from generate_series(1, ${count}) i`;
  await sql`insert into feyxa.event_queue (event_id, due_at)
            select id, case when status = 'dead' then 'infinity' else next_retry_at end from feyxa.events_log where status <> 'completed'`;
  await sql`analyze feyxa.events_log; analyze feyxa.event_queue`.simple();
}

/**
 * A log at volume, as a busy day leaves it: `events` events over the last day (one every
 * 0.08 s at a million: the mix of seedEvents), the runs of the newest 300,000, a story of 41
 * events (ev-4201 to ev-4241, each caused by the one before, all correlated to ev-4242's id),
 * vacuumed and analysed as autovacuum would have by then, and the rollups caught up as the
 * scheduler's every-minute fold keeps them. Returns ev-4242 (the story's root).
 */
export async function seedVolume(sql: Sql, events: number, storeId: string): Promise<{ id: string; aggregate_id: string }> {
  await seedEvents(sql, events, storeId, 80_000 / events);
  await sql`
    insert into feyxa.event_handlers_log (event_id, handler_name, attempt, status, duration_ms, created_at)
    select e.id, 'vol.handler_' || (n % 7), 1, case when n % 40 = 0 then 'failed' else 'success' end, (n % 400), e.created_at
    from (select id, created_at, row_number() over () as n from feyxa.events_log order by created_at desc limit 300000) e`;
  const [sample] = await sql<{ id: string; aggregate_id: string }[]>`select id, aggregate_id from feyxa.events_log where idempotency_key = 'ev-4242'`;
  await sql`
    update feyxa.events_log e set causation_id = c.cause, correlation_id = ${sample.id}::uuid
    from (select id, lag(id) over (order by created_at desc) as cause from feyxa.events_log
          where idempotency_key in (select 'ev-' || i from generate_series(4201, 4241) i)) c
    where e.id = c.id and c.cause is not null`;
  // Statistics, and the BRIN ranges of created_at summarised.
  await sql`vacuum analyze feyxa.event_handlers_log`;
  await sql`vacuum analyze feyxa.events_log`;
  for (let i = 0; i < 50; i++) {
    const [{ to }] = await sql<{ to: Date }[]>`select feyxa.fold_stats(interval '1 day', interval '0 seconds') as to`;
    if (to.getTime() > Date.now() - 5_000) break;
  }
  return sample;
}

/** The monitor's reads an operator makes first, at volume: the list (and its common filters), the stats over each window, a story. */
export const MONITOR_PATHS = (storyRoot: string) => [
  "/events", "/events?status=dead", "/events?type=payout", "/events?waiting=retrying",
  "/stats?window=1h", "/stats?window=24h", "/stats?window=7d", `/story?q=${storyRoot}`,
];

/**
 * A superuser connection (LOAD 'auto_explain' takes one; hosted projects do not let postgres
 * load it either) on which every statement's plan is reported: `plansOf(work)` runs `work`
 * on it and returns the plans that read events_log. Closed after the file's tests.
 */
export async function explainingConnection(superuserUrl: string) {
  const { default: postgres } = await import("postgres");
  const { afterAll } = await import("vitest");
  const plans: string[] = [];
  const explained = postgres(superuserUrl, { max: 1, onnotice: (notice) => plans.push(String(notice.message)) });
  afterAll(() => explained.end());
  await explained`load 'auto_explain'`;
  await explained`select set_config('auto_explain.log_min_duration', '0', false), set_config('auto_explain.log_level', 'notice', false),
                         set_config('client_min_messages', 'notice', false)`;
  if (process.env.SHOW_PLANS) await explained`select set_config('auto_explain.log_analyze', 'on', false)`;
  return async (work: (sql: Sql) => Promise<unknown>): Promise<string> => {
    plans.length = 0;
    await work(explained as unknown as Sql);
    return plans.filter((p) => process.env.SHOW_PLANS || p.includes("events_log")).join("\n");
  };
}
