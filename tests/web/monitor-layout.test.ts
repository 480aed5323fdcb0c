/**
 * The monitor as an operator meets it, in Chromium at a laptop's 1440×900 and a phone's
 * 390×844: the event list and its filters in the first screen, no sideways scroll from
 * 360 to 1920 px, every view free of serious or critical axe violations, a screenshot of
 * each view (artifacts/, git-ignored), and the whole retry flow done with the keyboard only.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { NonRetriableError } from "../../src/bus/errors.ts";
import { countingHandler, markDead, subscribe, testBus, uuid } from "../support/bus.ts";
import { openBrowser, screenshot, serveWithPage } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import { horizontalOverflow, monitorGateway, overflowing, person, seriousViolations, store } from "../support/monitor.ts";

const { sql } = await useDatabase();
const ok = countingHandler("lay.ok");
const payout = countingHandler("lay.payout", () => new NonRetriableError(`payout ${uuid()} of ${Math.floor(Math.random() * 9000)} XOF refused`));
const bus = testBus(sql, [ok.handler, payout.handler]);
await subscribe(sql, "lay.order_placed", "lay.ok");
await subscribe(sql, "lay.payout_requested", "lay.payout");

const shop = await store(sql, "Atelier Layout");
const admin = await person(sql, "ops@example.com", { admin: true });
const emit = async (type: string) =>
  (await bus.emit({ event_type: type, aggregate_type: "order", aggregate_id: uuid(), tenant_id: shop, payload: { total: 4200, note: "x".repeat(200) } })).eventId;
for (let i = 0; i < 30; i++) await emit("lay.order_placed");
for (let i = 0; i < 6; i++) await emit("lay.payout_requested");
// A long error without spaces, the kind that pushed the old page sideways.
await markDead(sql, await emit("lay.order_shipped"), `logistics.ship: ${"carrier-timeout-".repeat(20)} for order ${uuid()}`);
const dispatcher = new Dispatcher(bus, { pollIntervalMs: 200, onError: () => {} });
await dispatcher.start();
afterAll(() => dispatcher.stop());
for (let i = 0; i < 150; i++) {
  const [{ n }] = await sql`select count(*)::int as n from feyxa.events_log where status in ('pending', 'processing')`;
  if (n === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}

const base = await serveWithPage("monitor", monitorGateway(bus));
const { browser } = await openBrowser();
// axe needs a page of a context the test made (not browser.newPage()).
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
await page.goto(`${base}/monitor/#access_token=${admin.token}`);
await page.getByTestId("event-row").first().waitFor({ timeout: 15_000 });

const SIZES = { laptop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;
const VIEWS = ["events", "failures", "queue", "routes", "stats", "audit"] as const;

async function openView(view: (typeof VIEWS)[number], size: keyof typeof SIZES) {
  await page.setViewportSize(SIZES[size]);
  await page.goto(`${base}/monitor/${view === "events" ? "" : `?view=${view}`}`);
  const ready = { events: "event-row", failures: "failure-group", queue: "queue-counts", routes: "route-row", stats: "handler-table", audit: "audit" }[view];
  await page.getByTestId(ready).first().waitFor({ timeout: 10_000 });
}

describe("the monitor's layout", () => {
  for (const size of Object.keys(SIZES) as (keyof typeof SIZES)[]) {
    it(`at ${SIZES[size].width}×${SIZES[size].height}: the filters and the first rows of the list in the first screen, nothing sideways`, async () => {
      await openView("events", size);
      const { height } = SIZES[size];
      const filters = await page.getByTestId("filters").boundingBox();
      const firstRow = await page.getByTestId("event-row").first().boundingBox();
      expect(filters!.y).toBeLessThan(height);
      expect(firstRow!.y + firstRow!.height).toBeLessThanOrEqual(height);
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, `monitor-${size}-events`);
    }, 30_000);

    for (const view of VIEWS) {
      it(`at ${size} size, the ${view} view: no sideways scroll, no serious accessibility violation`, async () => {
        await openView(view, size);
        expect(await horizontalOverflow(page), `${view}: ${await overflowing(page)}`).toBe(0);
        expect(await seriousViolations(page), view).toEqual([]);
        await screenshot(page, `monitor-${size}-${view}`);
      }, 60_000);
    }

    it(`at ${size} size, an event's detail: beside the list on a laptop, instead of it on a phone`, async () => {
      const row = page.getByTestId("event-row").filter({ hasText: "lay.order_shipped" });
      await openView("events", size);
      await row.getByTestId("event-link").click();
      await page.getByTestId("payload").waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await page.getByTestId("events").isVisible()).toBe(size === "laptop");
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `monitor-${size}-detail`);
      await page.getByTestId("close-detail").click();
      await page.getByTestId("events").waitFor();
    }, 60_000);
  }

  it("has no sideways scroll at 360 and 1920 px either, in English or French", async () => {
    for (const width of [360, 1920]) {
      for (const lang of ["en", "fr"]) {
        await page.setViewportSize({ width, height: 900 });
        await page.goto(`${base}/monitor/?lang=${lang}`);
        await page.getByTestId("event-row").first().waitFor();
        expect(await horizontalOverflow(page), `${width} ${lang}`).toBe(0);
      }
    }
    await screenshot(page, "monitor-1920-french");
  }, 30_000);
});

describe("the monitor with the keyboard only", () => {
  it("moves through the list, opens an event, retries it through its dialog, and closes the dialog with Escape", async () => {
    await page.setViewportSize(SIZES.laptop);
    await page.goto(`${base}/monitor/?type=lay.payout`);
    await page.getByTestId("event-row").first().waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.tagName);
    // Tab until the first event link has focus: rows are reachable without a mouse.
    for (let i = 0; i < 60 && (await focused()) !== "event-link"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("event-link");
    await page.keyboard.press("Tab"); // the next row's link
    expect(await focused()).toBe("event-link");
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await page.getByTestId("detail").getByTestId("retry").waitFor();
    for (let i = 0; i < 40 && (await focused()) !== "retry"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("retry");
    await page.keyboard.press("Enter");
    // The dialog takes focus, and keeps it: Tab cycles inside.
    await page.getByTestId("confirm").waitFor();
    expect(await focused()).toBe("confirm-yes");
    for (let i = 0; i < 3; i++) await page.keyboard.press("Tab");
    expect(await page.evaluate(() => Boolean(document.activeElement?.closest("dialog")))).toBe(true);
    for (let i = 0; i < 5 && (await focused()) !== "confirm-yes"; i++) await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    // It says what really happened: the handler refused again, so the event is dead again.
    const result = page.getByTestId("action-result");
    await expect.poll(() => result.getAttribute("data-outcome"), { timeout: 20_000 }).toBe("dead");
    expect(await result.textContent()).toMatch(/a handler refused it: .*payout .* refused\. It is dead again/);
    await screenshot(page, "monitor-keyboard-retry");
    await page.keyboard.press("Escape");
    await page.getByTestId("confirm").waitFor({ state: "detached" });
    expect(await focused()).toBe("retry"); // focus is back where it was
  }, 60_000);
});
