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

/** axe-core's serious and critical violations on the page as it is now, as "rule: target" lines. */
export async function seriousViolations(page: import("playwright-core").Page): Promise<string[]> {
  const { default: AxeBuilder } = await import("@axe-core/playwright");
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} ${n.failureSummary?.split("\n")[1] ?? ""}`.trim()));
}
