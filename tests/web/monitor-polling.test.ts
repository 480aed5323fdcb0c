/**
 * The monitor's polls in Chromium against a slow server (issue 28: "the page polls every 4 s
 * even while the last request is still running, so requests pile up"): with every read
 * answering in 2.5 s, no poll ever has two requests in flight and the page slows down,
 * saying so; quick answers bring the period back; a hidden tab asks nothing, and asks at
 * once when it is shown again. tests/web/monitor-poller.test.ts holds the scheduling itself.
 */
import { describe, expect, it } from "vitest";
import { testBus, uuid } from "../support/bus.ts";
import { servePage } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import { monitorGateway, person } from "../support/monitor.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);
const admin = await person(sql, "ops-polls@example.com", { admin: true });
await bus.emit({ event_type: "poll.placed", aggregate_type: "order", aggregate_id: uuid() });

const { base, page } = await servePage("monitor", monitorGateway(bus));

/** Reads of event-monitor by path: how many started, how many are in flight, the most at once. */
const reads = new Map<string, { started: number; inFlight: number; most: number }>();
const pathOf = (url: string) => new URL(url).pathname.replace(/^.*\/event-monitor/, "");
page.on("request", (r) => {
  if (!r.url().includes("/event-monitor/") || r.method() !== "GET") return;
  const read = reads.get(pathOf(r.url())) ?? { started: 0, inFlight: 0, most: 0 };
  read.started++;
  read.inFlight++;
  read.most = Math.max(read.most, read.inFlight);
  reads.set(pathOf(r.url()), read);
});
const done = (r: import("playwright-core").Request) => {
  const read = reads.get(pathOf(r.url()));
  if (read && r.method() === "GET") read.inFlight--;
};
page.on("requestfinished", done);
page.on("requestfailed", done);
const started = (path: string) => reads.get(path)?.started ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await page.goto(`${base}/monitor/#access_token=${admin.token}`);
await page.getByTestId("event-row").first().waitFor({ timeout: 15_000 });

describe("the monitor's polls", () => {
  it("never has two requests of a poll in flight, and slows down while answers are slow, saying so", async () => {
    await page.route("**/functions/v1/event-monitor/**", async (route) => {
      if (route.request().method() === "GET") await sleep(2500);
      await route.continue().catch(() => {}); // the page may have aborted it meanwhile
    });
    reads.clear();
    await sleep(20_000);
    for (const [path, read] of reads) expect(read.most, path).toBe(1);
    // A 4 s timer would have sent 5 in 20 s whatever the answers; answers of 2.5 s double the wait each time.
    expect(started("/stats")).toBeLessThanOrEqual(3);
    const live = page.getByTestId("live");
    expect(Number(await live.getAttribute("data-period"))).toBeGreaterThan(4000);
    expect(await live.textContent()).toMatch(/^Live · slowed to every \d+ s: the server answers slowly/);
    await page.unroute("**/functions/v1/event-monitor/**");
    await expect.poll(() => live.getAttribute("data-period"), { timeout: 40_000 }).toBe("4000");
    expect(await live.textContent()).toMatch(/^Live · every 4 s/);
  }, 90_000);

  it("asks nothing while the tab is hidden, and asks at once when it is shown again", async () => {
    const setHidden = (hidden: boolean) => page.evaluate((h) => {
      Object.defineProperty(document, "hidden", { value: h, configurable: true });
      Object.defineProperty(document, "visibilityState", { value: h ? "hidden" : "visible", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    }, hidden);
    await setHidden(true);
    await sleep(1000); // what was in flight ends
    const [stats, events] = [started("/stats"), started("/events")];
    await sleep(10_000);
    expect([started("/stats"), started("/events")]).toEqual([stats, events]);
    await setHidden(false);
    await expect.poll(() => [started("/stats") > stats, started("/events") > events], { timeout: 1500, interval: 100 }).toEqual([true, true]);
  }, 30_000);
});
