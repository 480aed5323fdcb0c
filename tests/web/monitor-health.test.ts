/**
 * The monitor's health line (issue 28, item 7), in Chromium: it opens the page for an
 * operator, says "Healthy" while a dispatcher runs, turns "Down" with its reason once the
 * dispatcher is stopped and an event is due, and comes back to "Healthy" when a dispatcher
 * starts again and takes the event; the lag and the throughput beside it; French too; no
 * sideways scroll and no serious or critical axe violation at 1440×900 and 390×844, down.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { countingHandler, subscribe, testBus, uuid } from "../support/bus.ts";
import { screenshot, servePage, SIZES } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import { horizontalOverflow, monitorGateway, overflowing, person, seriousViolations } from "../support/monitor.ts";

const { sql } = await useDatabase();
const work = countingHandler("vital.work");
await subscribe(sql, "vital.job", "vital.work");
const bus = testBus(sql, [work.handler], { where: { runtime: "node", host: "worker-1" } });
const admin = await person(sql, "ops-health@example.com", { admin: true });
const dispatch = async () => {
  const dispatcher = new Dispatcher(bus, { pollIntervalMs: 200, onError: () => {} });
  await dispatcher.start();
  return dispatcher;
};
let dispatcher = await dispatch();
afterAll(() => dispatcher.stop());

const { base, page } = await servePage("monitor", monitorGateway(bus));
const line = page.getByTestId("health");
const status = () => line.getAttribute("data-status");

describe("the health line", () => {
  it("opens the page: healthy while a dispatcher runs, with the lag and the throughput", async () => {
    await page.goto(`${base}/monitor/#access_token=${admin.token}`);
    await line.waitFor({ timeout: 15_000 });
    await expect.poll(status, { timeout: 10_000 }).toBe("healthy");
    expect(await page.getByTestId("health-status").textContent()).toBe("Healthy");
    expect(await page.getByTestId("health-lag").textContent()).toBe("Lag: nothing due");
    expect(await page.getByTestId("health-throughput").textContent()).toMatch(/^0 runs\/min \(hour’s average 0\) → steady/);
    expect(await page.getByTestId("health-reasons").count()).toBe(0);
    // The page opens with it: under the page's title, before the numbers and the views, in the first screen.
    expect(await page.evaluate(() => {
      const [title, health, stats, main] = ["h1", "[data-testid=health]", "[data-testid=stats]", "#main"].map((s) => document.querySelector(s)!);
      const before = (a: Element, b: Element) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
      return before(title, health) && before(health, stats) && before(health, main) && health.getBoundingClientRect().top < 200;
    })).toBe(true);
  }, 60_000);

  it("down when the dispatcher is stopped with an event due, saying why; healthy again once a dispatcher starts and takes it", async () => {
    await dispatcher.stop();
    const { eventId } = await bus.emit({ event_type: "vital.job", aggregate_type: "test", aggregate_id: uuid() });
    await expect.poll(status, { timeout: 10_000 }).toBe("down");
    expect(await page.getByTestId("health-status").textContent()).toBe("Down");
    expect(await page.getByTestId("health-reasons").textContent()).toMatch(/^the dispatcher on worker-1 stopped [\d.]+ s ago and nothing else runs while events are due$/);
    await expect.poll(() => page.getByTestId("health-lag").textContent(), { timeout: 10_000 }).toMatch(/^Lag \d/);
    await screenshot(page, "monitor-laptop-health-down");

    dispatcher = await dispatch();
    await expect.poll(status, { timeout: 10_000 }).toBe("healthy");
    expect(await page.getByTestId("health-lag").textContent()).toBe("Lag: nothing due");
    expect(work.runs.get(eventId)).toBe(1);
  }, 60_000);

  it("in French, healthy and down", async () => {
    await page.goto(`${base}/monitor/?lang=fr`);
    await expect.poll(() => page.getByTestId("health-status").textContent(), { timeout: 10_000 }).toBe("En bonne santé");
    expect(await page.getByTestId("health-lag").textContent()).toBe("Retard : rien en attente");
    expect(await page.getByTestId("health-throughput").textContent()).toMatch(/^0 exécutions\/min \(moyenne de l'heure 0\) → stable/);
    // Down, the reason in French too, with no English word.
    await dispatcher.stop();
    await bus.emit({ event_type: "vital.job", aggregate_type: "test", aggregate_id: uuid() });
    await expect.poll(() => page.getByTestId("health-status").textContent(), { timeout: 10_000 }).toBe("En panne");
    expect(await page.getByTestId("health-reasons").textContent())
      .toMatch(/^le répartiteur de worker-1 s'est arrêté il y a [\d.,]+ s et rien d'autre ne tourne alors que des événements sont dus$/);
    dispatcher = await dispatch();
    await expect.poll(status, { timeout: 10_000 }).toBe("healthy");
  }, 30_000);

  for (const size of Object.keys(SIZES) as (keyof typeof SIZES)[]) {
    it(`down, at ${SIZES[size].width}×${SIZES[size].height}: one line that wraps, no sideways scroll, no serious accessibility violation`, async () => {
      await dispatcher.stop();
      await bus.emit({ event_type: "vital.job", aggregate_type: "test", aggregate_id: uuid() });
      await page.setViewportSize(SIZES[size]);
      await page.goto(`${base}/monitor/`);
      await expect.poll(status, { timeout: 10_000 }).toBe("down");
      expect(await horizontalOverflow(page), await overflowing(page)).toBe(0);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `monitor-${size}-health`);
      dispatcher = await dispatch();
      await expect.poll(status, { timeout: 10_000 }).toBe("healthy");
      await page.setViewportSize(SIZES.laptop);
    }, 60_000);
  }
});
