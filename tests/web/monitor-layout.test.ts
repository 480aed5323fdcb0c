/**
 * The monitor as an operator meets it, in Chromium at a laptop's 1440×900 and a phone's
 * 390×844: the event list and its filters in the first screen, no sideways scroll from
 * 360 to 1920 px, every view (alerts and an event's detail included) free of serious or
 * critical axe violations, with its actions in reach without scrolling sideways (rows become
 * cards on a phone) and every box that scrolls reachable by keyboard; the charts at 1440 and
 * 1920 (rates shown, labels whole, no empty column); a skip link; every view in French with
 * no English word and numbers through Intl; a screenshot of each view (artifacts/,
 * git-ignored), and the whole retry flow done with the keyboard only.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { NonRetriableError } from "../../src/bus/errors.ts";
import { countingHandler, markDead, subscribe, testBus, uuid } from "../support/bus.ts";
import { screenshot, servePage, SIZES } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import {
  controlsOutOfReach, englishWords, horizontalOverflow, monitorGateway, overflowing, person, seriousViolations, store, unreachableScrollers,
} from "../support/monitor.ts";

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

const { base, page } = await servePage("monitor", monitorGateway(bus));
await page.goto(`${base}/monitor/#access_token=${admin.token}`);
await page.getByTestId("event-row").first().waitFor({ timeout: 15_000 });

const VIEWS = ["events", "failures", "queue", "routes", "stats", "audit", "alerts"] as const;
// A rule (that does not fire: a firing one would emit events), so that the alerts view has a row with its actions.
await sql`insert into feyxa.alert_rules (name, kind, threshold) values ('lay payouts', 'dead_letters', 1000)`;
// An audited action, so that the audit trail has a row.
await sql`select feyxa.set_route_paused(gen_random_uuid(), 'lay.order_placed', 'lay.ok', false, 'checked')`;

async function openView(view: (typeof VIEWS)[number], size: keyof typeof SIZES | { width: number; height: number }, lang = "en") {
  await page.setViewportSize(typeof size === "string" ? SIZES[size] : size);
  const query = new URLSearchParams({ ...(view === "events" ? {} : { view }), ...(lang === "en" ? {} : { lang }) });
  await page.goto(`${base}/monitor/${query.size ? `?${query}` : ""}`);
  const ready = { events: "event-row", failures: "failure-group", queue: "queue-counts", routes: "route-row", stats: "handler-table", audit: "audit-row", alerts: "alert-rule" }[view];
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
      it(`at ${size} size, the ${view} view: no sideways scroll, its actions in reach, no serious accessibility violation`, async () => {
        await openView(view, size);
        expect(await horizontalOverflow(page), `${view}: ${await overflowing(page)}`).toBe(0);
        expect(await controlsOutOfReach(page), view).toEqual([]);
        expect(await unreachableScrollers(page), view).toEqual([]);
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
      expect(await controlsOutOfReach(page)).toEqual([]);
      expect(await unreachableScrollers(page)).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `monitor-${size}-detail`);
      await page.getByTestId("close-detail").click();
      await page.getByTestId("events").waitFor();
    }, 60_000);
  }

  for (const size of Object.keys(SIZES) as (keyof typeof SIZES)[]) {
    it(`at ${size} size, the dialogs (a bulk action's, an event's discard): no sideways scroll, no serious accessibility violation`, async () => {
      await openView("events", size);
      await page.getByTestId("bulk-retry").click();
      await page.getByTestId("bulk-preview").getByText(/This will touch|No event/).waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await seriousViolations(page), "bulk dialog").toEqual([]);
      await page.keyboard.press("Escape");
      await page.getByTestId("bulk-confirm").waitFor({ state: "detached" });
      await page.getByTestId("event-row").filter({ hasText: "lay.order_shipped" }).getByTestId("event-link").click();
      await page.getByTestId("discard").click();
      await page.getByTestId("confirm").waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await seriousViolations(page), "discard dialog").toEqual([]);
      await screenshot(page, `monitor-${size}-discard-dialog`);
      await page.keyboard.press("Escape");
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

describe("the charts view on a desktop", () => {
  for (const width of [1440, 1920]) {
    it(`at ${width} px: every rate shown, no label clipped, the two tables side by side with no empty column`, async () => {
      await openView("stats", { width, height: 900 });
      // Both charts drawn: the handler chart's axis names its handlers.
      const ticks = page.locator(".recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value");
      await expect.poll(async () => (await ticks.allTextContents()).filter((t) => t.startsWith("lay.")).sort()).toEqual(["lay.ok", "lay.payout"]);
      const rates = await page.getByTestId("success-rate-row").evaluateAll((rows) => rows.map((r) => {
        const cell = r.querySelector<HTMLElement>('[data-testid="rate"]')!;
        const box = cell.getBoundingClientRect();
        return { text: cell.textContent, visible: box.width > 0 && box.right <= document.documentElement.clientWidth };
      }));
      expect(rates).toEqual([
        { text: "100%", visible: true }, { text: "0%", visible: true }, { text: "0%", visible: true },
      ]);
      // No tick label of either chart sticks out of its chart.
      const clipped = await page.locator(".recharts-wrapper").evaluateAll((charts) => charts.flatMap((chart) => {
        const frame = chart.getBoundingClientRect();
        return [...chart.querySelectorAll(".recharts-cartesian-axis-tick-value")].map((tick) => ({ text: tick.textContent, box: tick.getBoundingClientRect() }))
          .filter(({ box }) => box.left < frame.left - 0.5 || box.right > frame.right + 0.5).map(({ text }) => text);
      }));
      expect(clipped).toEqual([]);
      // Throughput across the width, the two others filling the row beneath it.
      const [throughput, success, handlers] = await page.locator('[data-testid="charts"] > section').evaluateAll((cards) => cards.map((c) => {
        const r = c.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top };
      }));
      expect(success.top).toBe(handlers.top);
      expect(success.left).toBe(throughput.left);
      expect(handlers.right).toBe(throughput.right);
      expect(await horizontalOverflow(page)).toBe(0);
      await screenshot(page, `monitor-charts-${width}`);
    }, 30_000);
  }
});

describe("the monitor in French", () => {
  for (const size of ["laptop", "phone"] as const) {
    it(`at ${size} size: no English word left on any view, numbers and percentages through Intl`, async () => {
      await openView("routes", size);
      expect((await englishWords(page)).length, "the check finds the English page's words").toBeGreaterThan(5);
      for (const view of VIEWS) {
        await openView(view, size, "fr");
        expect(await englishWords(page), view).toEqual([]);
      }
      // 30 of 37 finished events completed: 81.1 % in French is "81,1 %".
      await openView("events", size, "fr");
      await expect.poll(() => page.getByTestId("stats").textContent()).toMatch(/Taux de succès81,1[\u00a0\u202f]%/);
      await page.getByTestId("event-row").filter({ hasText: "lay.order_shipped" }).getByTestId("event-link").click();
      await page.getByTestId("payload").waitFor();
      expect(await englishWords(page), "detail").toEqual([]);
      await screenshot(page, `monitor-${size}-french-detail`);
    }, 90_000);
  }
});

describe("a skip link", () => {
  it("is the first Tab stop, and moves the focus past the header to the view", async () => {
    await openView("events", "laptop");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => [document.activeElement?.textContent, (document.activeElement?.getBoundingClientRect().top ?? -1) >= 0]))
      .toEqual(["Skip to content", true]); // on screen once focused
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    await page.keyboard.press("Tab"); // the next stop is inside the view, not the header
    expect(await page.evaluate(() => Boolean(document.activeElement?.closest("main")))).toBe(true);
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
