/**
 * An operator follows one order and sees why events wait, in Chromium at 1440 and 390 px:
 *
 * - the story view, opened from an order's number, lists its payment's and delivery's events
 *   beside its own and every handler run, in time order, and the run that emitted an event;
 * - held, scheduled, paused and rate-limited events each read as such in the list, and the
 *   held one's detail links its dead blocker; the waiting filter narrows the list to each.
 */
import { afterAll, describe, expect, it } from "vitest";
import { configureEventType, defineHandler, NonRetriableError } from "../../src/bus/index.ts";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { engineHandlers } from "../../src/marketplace/engines/index.ts";
import { subscribe, testBus, uuid } from "../support/bus.ts";
import { screenshot, servePage } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import { checkout, openShop } from "../support/marketplace.ts";
import { horizontalOverflow, monitorClient, monitorGateway, person, seriousViolations } from "../support/monitor.ts";

const { sql } = await useDatabase();
const admin = await person(sql, "ops@example.com", { admin: true });
const quiet = defineHandler("wait.quiet", async () => {});
const limited = defineHandler("wait.limited", async () => {}, { rateLimit: "wait.bucket" });
const refuse = defineHandler("wait.refuse", async () => {
  throw new NonRetriableError("refused for good");
});
const bus = testBus(sql, [...engineHandlers(), quiet, limited, refuse]);
const client = monitorClient(monitorGateway(bus));

// An order, paid and delivered.
const shop = await openShop(sql, [{ name: "Tea", price: 1_000, stock: 10 }]);
const order = await checkout(sql, shop, { Tea: 1 });
const dispatcher = new Dispatcher(bus, { pollIntervalMs: 100, onError: () => {} });
await dispatcher.start();
afterAll(() => dispatcher.stop());
/** Waits until no event is due or running (the dispatcher has done all it can now). */
async function settled(): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const [{ n }] = await sql`select count(*)::int as n from feyxa.event_queue q join feyxa.events_log e on e.id = q.event_id
                              where e.status = 'processing' or (e.status = 'pending' and q.due_at <= now())`;
    if (n === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the dispatcher did not settle in 15 s");
}
await settled();
await sql`update payments set status = 'paid', paid_at = now() where order_id = ${order.order_id}::uuid`;
await settled();
await sql`update deliveries set status = 'delivered', delivered_at = now() where order_id = ${order.order_id}::uuid`;
await settled();

// Events waiting for each reason: held behind the dead head of its line (a refusal),
await configureEventType(sql, "wait.ordered", { ordered: true });
await subscribe(sql, "wait.ordered", "wait.refuse");
const line = uuid();
await bus.emit({ event_type: "wait.ordered", aggregate_type: "test", aggregate_id: line });
const { eventId: held } = await bus.emit({ event_type: "wait.ordered", aggregate_type: "test", aggregate_id: line });
const { eventId: scheduled } = await bus.emit({ event_type: "wait.later", aggregate_type: "test", aggregate_id: uuid(), delay: 3600 });
await subscribe(sql, "wait.paused", "wait.quiet");
await client.post(admin, "/routes", { action_id: uuid(), action: "pause", event_pattern: "wait.paused", handler_name: "wait.quiet", reason: "provider maintenance" });
const { eventId: paused } = await bus.emit({ event_type: "wait.paused", aggregate_type: "test", aggregate_id: uuid() });
await sql`select feyxa.configure_rate_limit('wait.bucket', 0.001, 1)`;
await subscribe(sql, "wait.limited", "wait.limited");
await bus.emit({ event_type: "wait.limited", aggregate_type: "test", aggregate_id: uuid() });
await settled();
const { eventId: deferred } = await bus.emit({ event_type: "wait.limited", aggregate_type: "test", aggregate_id: uuid() });
await settled();

const { base, page } = await servePage("monitor", monitorGateway(bus));

describe("the monitor follows an order and says why events wait", () => {
  for (const [width, height] of [[1440, 900], [390, 844]]) {
    it(`opens an order's story from its number, in time order, at ${width}×${height}`, async () => {
      await page.setViewportSize({ width, height });
      await page.goto(`${base}/monitor/#access_token=${admin.token}`);
      await page.getByTestId("view-story").click();
      await page.locator('input[name="story"]').fill(order.order_number);
      await page.getByTestId("story-open").click();
      const list = page.getByTestId("story-list");
      for (const type of ["order.created", "payment.paid", "delivery.delivered"]) await list.locator(`[data-type="${type}"]`).first().waitFor();
      const runs = await list.getByTestId("story-run").count();
      expect(runs).toBeGreaterThanOrEqual(8);
      const times = await list.locator("li time").evaluateAll((ts) => ts.map((t) => t.getAttribute("datetime") ?? ""));
      expect(times.filter(Boolean)).toEqual([...times.filter(Boolean)].sort());
      expect(new URL(page.url()).searchParams.get("story")).toBe(order.order_number);
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `monitor-story-${width}`);
    }, 60_000);

    it(`shows held, scheduled, paused and rate-limited events as such, each a filter, at ${width}×${height}`, async () => {
      await page.setViewportSize({ width, height });
      await page.goto(`${base}/monitor/?view=events#access_token=${admin.token}`);
      const waitingOf = (id: string) => page.locator(`[data-testid="event-row"][data-id="${id}"] [data-waiting]`);
      for (const [id, reason] of [[held, "held"], [scheduled, "scheduled"], [paused, "paused"], [deferred, "deferred"]]) {
        await expect.poll(() => waitingOf(id).getAttribute("data-waiting"), { timeout: 10_000 }).toBe(reason);
      }
      await page.getByTestId("filters").locator("summary").click(); // "More filters"
      await page.getByTestId("waiting-filter").selectOption("paused");
      await expect.poll(() => page.locator('[data-testid="event-row"]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id"))))
        .toEqual([paused]);
      await page.goto(`${base}/monitor/?event=${held}`);
      const panel = page.getByTestId("waiting");
      await panel.getByTestId("blocker-link").waitFor();
      expect(await panel.getAttribute("data-waiting")).toBe("held");
      await panel.getByText("refused for good").waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `monitor-waiting-held-${width}`);
    }, 60_000);
  }
});
