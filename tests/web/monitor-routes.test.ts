/**
 * The routes view in Chromium (issue 28): each route shows its own numbers (a route that
 * never matched an event shows no runs, however busy its handler is on another route;
 * overlapping routes of one handler say they share their runs), a search and filters narrow
 * the list, pausing asks for a reason and names how many open events will wait before
 * anything changes, and the audit trail keeps the reason; the retry queue counts a failed
 * event's attempts against its route's real policy. At 1440×900 and 390×844: the actions in
 * reach without sideways scrolling (rows become cards on a phone), no serious axe violation
 * with the dialog open; in French, numbers and percentages through Intl.
 */
import { describe, expect, it } from "vitest";
import { countingHandler, subscribe, testBus, uuid } from "../support/bus.ts";
import { screenshot, servePage, SIZES } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import { horizontalOverflow, monitorGateway, overflowing, person, seriousViolations, store } from "../support/monitor.ts";

const { sql } = await useDatabase();
const ok = countingHandler("rw.ok");
const ship = countingHandler("rw.ship", () => new Error(`carrier ${uuid()} timed out`));
const pay = countingHandler("rw.pay", () => new Error("bank says no"));
const bus = testBus(sql, [ok.handler, ship.handler, pay.handler]);
await subscribe(sql, "rw.placed", "rw.ok", "rw.ship");
await subscribe(sql, "rw.returned", "rw.ship"); // the busy handler, on a type nothing emits
await subscribe(sql, "rw.*", "rw.ok"); // overlaps rw.placed -> rw.ok
await subscribe(sql, "rw.paid", "rw.pay");
await sql`select feyxa.set_route_policy('rw.pay', 8, p_event_pattern => 'rw.paid')`; // 8 attempts, where the bus's default is 4
const shop = await store(sql, "Atelier Routes");
const admin = await person(sql, "ops-routes@example.com", { admin: true });
const emit = async (type: string) => (await bus.emit({ event_type: type, aggregate_type: "order", aggregate_id: uuid(), tenant_id: shop })).eventId;
const placed = [await emit("rw.placed"), await emit("rw.placed"), await emit("rw.placed")];
const paid = await emit("rw.paid");
await bus.drainOnce(20); // rw.ship fails the three placed events, rw.pay the paid one: all failed, due in minutes

const { base, page } = await servePage("monitor", monitorGateway(bus));
await page.goto(`${base}/monitor/#access_token=${admin.token}`);
await page.getByTestId("event-row").first().waitFor({ timeout: 15_000 });

const row = (pattern: string, handler: string) => page.locator(`[data-testid="route-row"][data-pattern="${pattern}"][data-handler="${handler}"]`);
async function openRoutes(size: keyof typeof SIZES, query = "") {
  await page.setViewportSize(SIZES[size]);
  await page.goto(`${base}/monitor/?view=routes${query}`);
  await page.getByTestId("route-row").first().waitFor({ timeout: 10_000 });
}
/** The buttons and links of the view that lie outside the screen, or that only a sideways scroll of their box would bring in. */
const outOfReach = () => page.evaluate(() => {
  const width = document.documentElement.clientWidth;
  const scrolled = [...document.querySelectorAll<HTMLElement>("main .scroll")].filter((box) => box.scrollWidth > box.clientWidth + 1);
  const controls = [...document.querySelectorAll<HTMLElement>("main button, main a, main input, main select")];
  return [
    ...scrolled.map((box) => `scrolls sideways: ${box.querySelector("table")?.getAttribute("data-testid")}`),
    ...controls.filter((c) => { const r = c.getBoundingClientRect(); return r.width > 0 && (r.left < 0 || r.right > width + 0.5); })
      .map((c) => `off-screen: ${c.textContent}`),
  ];
});

describe("the routes view, per route", () => {
  for (const size of ["laptop", "phone"] as const) {
    it(`at ${size} size: a route that never ran shows no runs, beside its handler's busy route; the actions in reach`, async () => {
      await openRoutes(size);
      const idle = row("rw.returned", "rw.ship");
      expect(await idle.getAttribute("data-runs")).toBe("0");
      expect(await idle.getByTestId("route-runs").textContent()).toBe("No run");
      expect(await idle.getByTestId("route-failure-rate").textContent()).toBe("—");
      expect(await idle.getByTestId("route-last-error").textContent()).toBe("—");
      const busy = row("rw.placed", "rw.ship");
      expect(await busy.getByTestId("route-runs").textContent()).toBe("3");
      expect(await busy.getByTestId("route-failure-rate").textContent()).toBe("100%");
      expect(await busy.getByTestId("route-last-error").textContent()).toMatch(/^carrier .* timed out/);
      // rw.placed -> rw.ok and rw.* -> rw.ok serve the same runs: each says so.
      expect(await row("rw.placed", "rw.ok").getByTestId("shared-with").textContent()).toContain("rw.*");
      expect(await row("rw.*", "rw.ok").getByTestId("route-runs").textContent()).toBe("4");
      expect(await horizontalOverflow(page), await overflowing(page)).toBe(0);
      expect(await outOfReach()).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `monitor-routes-${size}`);
    }, 60_000);
  }

  it("narrows the list by a search, a state and failing only, kept in the URL", async () => {
    await openRoutes("laptop");
    await page.getByTestId("route-search").fill("returned");
    await expect.poll(() => page.getByTestId("route-row").count()).toBe(1);
    expect(new URL(page.url()).searchParams.get("rq")).toBe("returned");
    await page.getByTestId("route-search").fill("rw ship");
    await expect.poll(() => page.getByTestId("route-row").count()).toBe(2); // every word: rw.placed and rw.returned -> rw.ship
    await page.getByTestId("route-search").fill("rw");
    await page.getByTestId("route-failing").check();
    await expect.poll(async () => (await page.getByTestId("route-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-handler")))).sort())
      .toEqual(["rw.pay", "rw.ship"]);
    await page.getByTestId("route-state").selectOption("paused");
    await page.getByText("No route matches.").waitFor();
    await page.reload();
    expect(await page.getByTestId("route-search").inputValue()).toBe("rw");
    expect(await page.getByTestId("route-state").inputValue()).toBe("paused");
  }, 30_000);
});

describe("pausing a route", () => {
  for (const size of ["phone", "laptop"] as const) {
    it(`at ${size} size: says first how many open events will wait, asks why, then pauses; the audit trail keeps the reason`, async () => {
      await openRoutes(size);
      const route = row("rw.placed", "rw.ship");
      await route.getByTestId("toggle-route").click();
      const dialog = page.getByTestId("pause-route-dialog");
      // The three failed events owe rw.ship: they will wait, not fail.
      await expect.poll(() => dialog.getByTestId("pause-waiting").getAttribute("data-waiting")).toBe("3");
      expect(await dialog.getByTestId("pause-waiting").textContent()).toBe("3 open events routed to it will wait.");
      expect(await dialog.getByTestId("pause-confirm").isDisabled()).toBe(true); // no reason yet
      expect(await seriousViolations(page)).toEqual([]);
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, `monitor-pause-dialog-${size}`);
      const reason = `carrier outage ${size}`;
      await dialog.getByTestId("pause-reason").fill(reason);
      await dialog.getByTestId("pause-confirm").click();
      await expect.poll(() => dialog.getByTestId("pause-result").textContent()).toBe("Paused. 3 events wait for it.");
      await page.keyboard.press("Escape");
      await route.locator('[data-state="paused"]').waitFor();
      const [audit] = await sql`select actor_email, target, result from feyxa.monitor_actions where kind = 'pause_route' order by created_at desc limit 1`;
      expect(audit).toMatchObject({ actor_email: "ops-routes@example.com", target: { event_pattern: "rw.placed", handler_name: "rw.ship", reason }, result: { waiting: 3 } });
      await page.getByTestId("view-audit").click();
      await page.getByTestId("audit-row").filter({ hasText: `Paused the route rw.placed → rw.ship: ${reason}` }).getByText("3 events were waiting").waitFor();
      // Resuming is one click.
      await page.getByTestId("view-routes").click();
      await route.getByTestId("toggle-route").click();
      await route.locator('[data-state="active"]').waitFor();
    }, 60_000);
  }
});

describe("the retry queue", () => {
  it("counts a failed event's attempts against its route's real policy", async () => {
    await page.setViewportSize(SIZES.laptop);
    await page.goto(`${base}/monitor/?view=queue`);
    const queued = page.locator(`[data-testid="queue-row"][data-id="${paid}"]`);
    await queued.waitFor({ timeout: 10_000 });
    expect(await queued.getByTestId("attempts-used").textContent()).toBe("1 of 8 attempts used" + "rw.pay, route rw.paid");
    const other = page.locator(`[data-testid="queue-row"][data-id="${placed[0]}"]`);
    expect(await other.getByTestId("attempts-used").textContent()).toBe("1 of 4 attempts used" + "rw.ship, the bus's default");
  }, 30_000);
});

describe("in French", () => {
  it("says it in French, with percentages as French writes them (Intl: a space before %)", async () => {
    await openRoutes("laptop", "&lang=fr");
    expect(await row("rw.returned", "rw.ship").getByTestId("route-runs").textContent()).toBe("Aucune exécution");
    expect(await row("rw.placed", "rw.ship").getByTestId("route-failure-rate").textContent()).toMatch(/^100[\u00a0\u202f]%$/);
    await row("rw.placed", "rw.ship").getByTestId("toggle-route").click();
    await expect.poll(() => page.getByTestId("pause-waiting").textContent()).toBe("3 événements ouverts routés vers elle attendront.");
    await page.keyboard.press("Escape");
  }, 30_000);
});
