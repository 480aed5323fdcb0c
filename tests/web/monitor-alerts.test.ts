/**
 * The monitor's alerts (issue 16), in Chromium: an operator creates a rule in the Alerts
 * view, it fires (a dead letter of its type, then the scheduler's evaluate_alerts), and the
 * banner shows it above every view, with its latest notice; pause, resume and delete from the
 * list; a refused field is named and focused; the view free of serious or critical axe
 * violations and of sideways scroll at 1440×900 and 390×844, with a notice in the list.
 */
import { describe, expect, it } from "vitest";
import { markDead, testBus, uuid } from "../support/bus.ts";
import { screenshot, servePage, SIZES } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import { horizontalOverflow, monitorGateway, overflowing, person, seriousViolations, store } from "../support/monitor.ts";

const { sql } = await useDatabase();
const bus = testBus(sql, []);
const shop = await store(sql, "Atelier Alertes");
const admin = await person(sql, "ops-alerts@example.com", { admin: true });

const { base, page } = await servePage("monitor", monitorGateway(bus));
await page.goto(`${base}/monitor/#access_token=${admin.token}`);
await page.getByTestId("view-events").waitFor({ timeout: 15_000 });

const openAlerts = async (query = "") => {
  await page.goto(`${base}/monitor/?view=alerts${query}`);
  await page.getByTestId("alert-form").waitFor({ timeout: 10_000 });
};
const ruleRow = (name: string) => page.getByTestId("alert-rule").filter({ hasText: name });

describe("alerts in the monitor", () => {
  it("an operator creates a rule; once it fires, the banner shows it on every view with its latest notice", async () => {
    await openAlerts();
    await expect.poll(() => page.getByTestId("alerts").textContent()).toContain("No alert rule yet.");
    const form = page.getByTestId("alert-form");
    await form.getByLabel("Name").fill("payouts dying");
    await form.getByLabel("Kind").selectOption("dead_letters");
    await form.getByLabel("More than N dead events").fill("0");
    await form.getByLabel("Event type (empty: any)").fill("watched.payout");
    await form.getByLabel("Store").selectOption({ label: "Atelier Alertes" });
    await form.getByLabel("Window (minutes)").fill("5");
    await page.getByTestId("create-alert").click();
    await expect.poll(() => form.getByRole("status").textContent()).toBe("Rule “payouts dying” created.");
    await expect.poll(() => ruleRow("payouts dying").textContent()).toMatch(/Dead letters.*watched\.payout · Atelier Alertes.*> 0 dead.*quiet/);
    const [rule] = await sql`select kind, event_type, tenant_id, threshold, extract(epoch from window_length)::int as window
                             from feyxa.alert_rules where name = 'payouts dying'`;
    expect(rule).toEqual({ kind: "dead_letters", event_type: "watched.payout", tenant_id: shop, threshold: 0, window: 300 });
    expect(await page.getByTestId("alert-banner").count()).toBe(0);

    // It fires: a dead payout of the store, and the scheduler's evaluation.
    const { eventId } = await bus.emit({ event_type: "watched.payout", aggregate_type: "payout", aggregate_id: uuid(), tenant_id: shop });
    await markDead(sql, eventId);
    await sql`select feyxa.evaluate_alerts()`;
    const banner = page.getByTestId("alert-banner");
    await banner.waitFor({ timeout: 10_000 }); // the next poll
    expect(await banner.getByTestId("firing-alert").textContent()).toMatch(/^payouts dying firing \(dead_letters 1(\.00)?, threshold 0\) · /);
    await expect.poll(() => ruleRow("payouts dying").textContent()).toMatch(/firing/);
    expect(await page.getByTestId("alert-notice").first().getAttribute("data-kind")).toBe("firing");

    for (const view of ["", "?view=failures", "?view=routes"]) {
      await page.goto(`${base}/monitor/${view}`);
      await banner.waitFor({ timeout: 10_000 });
      expect(await banner.textContent()).toContain("payouts dying");
    }
    await banner.getByRole("link", { name: "See the alerts" }).click();
    await page.getByTestId("alert-form").waitFor();
    expect(new URL(page.url()).searchParams.get("view")).toBe("alerts");
  }, 60_000);

  for (const size of Object.keys(SIZES) as (keyof typeof SIZES)[]) {
    it(`at ${SIZES[size].width}×${SIZES[size].height}, the Alerts view: no sideways scroll, no serious accessibility violation`, async () => {
      await page.setViewportSize(SIZES[size]);
      await openAlerts();
      await page.getByTestId("alert-notice").first().waitFor({ timeout: 10_000 });
      expect(await horizontalOverflow(page), await overflowing(page)).toBe(0);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `monitor-${size}-alerts`);
      await page.setViewportSize(SIZES.laptop);
    }, 60_000);
  }

  it("a rule the server refuses: the field at fault says why and takes the focus; nothing is created", async () => {
    await openAlerts();
    const form = page.getByTestId("alert-form");
    await form.getByLabel("Name").fill("escrow failing");
    await form.getByLabel("Kind").selectOption("failure_rate");
    expect(await form.getByLabel("Event type (empty: any)").count()).toBe(0); // a route's rule: no event type, no store
    await form.getByLabel("Failure rate above (%)").fill("20");
    await form.getByLabel("Route's handler").fill("Not A Handler");
    await page.getByTestId("create-alert").click();
    const handler = form.getByLabel("Route's handler");
    await expect.poll(() => handler.getAttribute("aria-invalid")).toBe("true");
    expect(await handler.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await form.locator(".field .error").textContent()).toMatch(/^handler_name: /);
    const [{ n }] = await sql`select count(*)::int as n from feyxa.alert_rules where name = 'escrow failing'`;
    expect(n).toBe(0);
  }, 30_000);

  it("pause, resume and delete from the list, in French too", async () => {
    await openAlerts("&lang=fr");
    const row = ruleRow("payouts dying");
    await row.getByRole("button", { name: "Mettre en pause: payouts dying" }).click();
    await expect.poll(() => row.locator("[data-state]").getAttribute("data-state")).toBe("paused_rule");
    expect((await sql`select is_active from feyxa.alert_rules where name = 'payouts dying'`)[0].is_active).toBe(false);
    expect(await page.getByTestId("alert-banner").count()).toBe(0); // a paused rule is not shown as firing
    await row.getByRole("button", { name: "Reprendre: payouts dying" }).click();
    await expect.poll(() => row.locator("[data-state]").getAttribute("data-state")).not.toBe("paused_rule");

    await row.getByRole("button", { name: "Supprimer: payouts dying" }).click();
    const dialog = page.getByTestId("delete-alert-dialog");
    expect(await dialog.textContent()).toContain("Supprimer la règle « payouts dying » ?");
    await page.getByTestId("confirm-delete-alert").click();
    await expect.poll(() => ruleRow("payouts dying").count()).toBe(0);
    expect((await sql`select count(*)::int as n from feyxa.alert_rules where name = 'payouts dying'`)[0].n).toBe(0);
  }, 30_000);
});
