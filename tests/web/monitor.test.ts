/**
 * The monitor page in Chromium: it loads with seeded events, a filter narrows the table,
 * an event's detail shows its handler logs, retrying a failed event turns it completed
 * once its handler is fixed (the dialog says so), and a store member never sees another
 * store's events; the operator's flows: retry a whole filter after a preview, re-drive a
 * failure by its fingerprint, discard one event with a reason. Screenshots go to artifacts/.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Dispatcher } from "../../src/bus/dispatcher.ts";
import { countingHandler, markDead, subscribe, testBus, uuid } from "../support/bus.ts";
import { openBrowser, screenshot, serveWithPage } from "../support/browser.ts";
import { useDatabase } from "../support/database.ts";
import { monitorGateway, person, store } from "../support/monitor.ts";

const { sql } = await useDatabase();
let broken = true;
const ok = countingHandler("web.ok");
const flaky = countingHandler("web.flaky", () => (broken ? new Error("payment provider is down") : undefined));
const bus = testBus(sql, [ok.handler, flaky.handler]);
await subscribe(sql, "web.placed", "web.ok");
await subscribe(sql, "web.paid", "web.ok", "web.flaky");

const [storeA, storeB] = [await store(sql, "Atelier A"), await store(sql, "Boutique B")];
const admin = await person(sql, "ops@example.com", { admin: true });
const member = await person(sql, "staff-a@example.com", { stores: [storeA] });
const emit = async (type: string, storeId: string) =>
  (await bus.emit({ event_type: type, aggregate_type: "order", aggregate_id: uuid(), tenant_id: storeId, payload: { total: 4200, currency: "XOF" } })).eventId;
const placedA = [await emit("web.placed", storeA), await emit("web.placed", storeA)];
const placedB = [await emit("web.placed", storeB), await emit("web.placed", storeB), await emit("web.placed", storeB)];
const paidA = await emit("web.paid", storeA);

const dispatcher = new Dispatcher(bus, { pollIntervalMs: 200, onError: () => {} });
await dispatcher.start();
afterAll(() => dispatcher.stop());
const base = await serveWithPage("monitor", monitorGateway(bus));
const { browser, page } = await openBrowser();
const rows = (p = page) => p.locator('[data-testid="event-row"]');
const rowIds = async (p = page) => await rows(p).evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id")));

describe("the monitor page", () => {
  it("loads with the seeded events, newest first, with the stats", async () => {
    await expect.poll(async () => (await sql`select count(*)::int as n from feyxa.events_log where status = 'pending'`)[0].n, { timeout: 10_000 }).toBe(0);
    await page.goto(`${base}/monitor/#access_token=${admin.token}`);
    await expect.poll(() => rows().count(), { timeout: 10_000 }).toBe(6);
    expect((await rowIds())[0]).toBe(paidA);
    expect(page.url()).not.toContain("access_token"); // the token leaves the address bar at once
    await page.locator('[data-testid="who"]').getByText("ops@example.com").waitFor();
    await screenshot(page, "monitor-overview");
    // The numbers in full, and the retry queue, are one click away.
    await page.getByTestId("view-stats").click();
    await page.locator('[data-testid="success-rate"]').getByText("web.placed").waitFor();
    await page.locator('[data-testid="handler-table"]').getByText("web.flaky").waitFor();
    await page.locator(".recharts-surface").first().waitFor();
    await page.getByTestId("view-queue").click();
    await page.locator('[data-testid="retry-queue"]').getByText("payment provider is down").first().waitFor();
    await page.getByTestId("view-events").click();
    await rows().first().waitFor();
  }, 30_000);

  it("narrows the table with a filter kept in the URL", async () => {
    await page.locator('input[name="type"]').fill("web.paid");
    await page.getByTestId("apply").click();
    await expect.poll(() => rowIds()).toEqual([paidA]);
    expect(new URL(page.url()).searchParams.get("type")).toBe("web.paid");
    await page.goto(`${base}/monitor/?status=completed`);
    await expect.poll(() => rows().count()).toBe(5);
    await page.goto(`${base}/monitor/?type=web.paid`);
    await expect.poll(() => rowIds()).toEqual([paidA]);
    await screenshot(page, "monitor-filtered");
  }, 30_000);

  it("shows an event's handler logs, and retrying it after the fix turns it completed", async () => {
    await rows().first().click();
    const detail = page.getByTestId("detail");
    await detail.getByTestId("handler-run").filter({ hasText: "web.flaky" }).getByText("payment provider is down").waitFor();
    await detail.getByTestId("handler-run").filter({ hasText: "web.ok" }).locator('[data-status="success"]').waitFor();
    await detail.getByTestId("payload").getByText('"total": 4200').waitFor();
    expect(new URL(page.url()).searchParams.get("event")).toBe(paidA);
    await screenshot(page, "monitor-event-failed");

    broken = false; // the fix is deployed
    await detail.getByTestId("retry").click();
    await page.getByTestId("confirm").getByText("Retry event").waitFor();
    await page.getByTestId("confirm-yes").click();
    // The dialog waits for the attempt and says how it went, not just that it was sent.
    await expect.poll(() => page.getByTestId("action-result").getAttribute("data-outcome"), { timeout: 15_000 }).toBe("completed");
    await page.getByTestId("confirm").getByRole("button", { name: "Close" }).click();
    // The dispatcher runs it; the page's refresh shows it, with the filter and open event kept.
    await rows().first().locator('[data-status="completed"]').waitFor({ timeout: 15_000 });
    await detail.getByTestId("attempt").filter({ hasText: "Attempt 2" }).locator('[data-status="success"]').waitFor({ timeout: 10_000 });
    expect(ok.runs.get(paidA)).toBe(1);
    const [audit] = await sql`select actor_email, kind, target from feyxa.monitor_actions`;
    expect(audit).toEqual({ actor_email: "ops@example.com", kind: "retry", target: { event_id: paidA } });
    await screenshot(page, "monitor-event-retried");
  }, 40_000);

  it("switches to French", async () => {
    await page.getByTestId("lang").selectOption("fr");
    await page.getByRole("heading", { name: "Feyxa · Moniteur d'événements" }).waitFor();
    expect(new URL(page.url()).searchParams.get("lang")).toBe("fr");
    await screenshot(page, "monitor-french");
  });

  it("shows a store member only their store's events, and no actions", async () => {
    const memberPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await memberPage.goto(`${base}/monitor/#access_token=${member.token}`);
    await expect.poll(() => rows(memberPage).count(), { timeout: 10_000 }).toBe(3);
    expect((await rowIds(memberPage)).sort()).toEqual([...placedA, paidA].sort());
    await memberPage.getByTestId("who").getByText("store member").waitFor();
    // A shared link to another store's event shows nothing of it.
    await memberPage.goto(`${base}/monitor/?event=${placedB[0]}`);
    await memberPage.getByTestId("detail").getByText("that you may see").waitFor();
    await memberPage.goto(`${base}/monitor/?event=${paidA}`);
    await memberPage.getByTestId("detail").getByTestId("payload").waitFor();
    expect(await memberPage.getByTestId("retry").count()).toBe(0);
    await screenshot(memberPage, "monitor-store-member");
  }, 30_000);

  it("finds a discarded event by its status, labelled as such", async () => {
    // Emitted and discarded by the server in one transaction: no worker ever sees it due.
    const id = await sql.begin(async (tx) => {
      const [{ id }] = await tx`select feyxa.emit_event('web.spam', 'order', gen_random_uuid(), ${storeA}::uuid, '{}'::jsonb) as id`;
      await tx`select feyxa.discard_event(gen_random_uuid(), ${id}::uuid, 'sent by mistake')`;
      return id as string;
    });
    await page.goto(`${base}/monitor/?status=discarded&lang=en`);
    await expect.poll(() => rowIds()).toEqual([id]);
    await rows().first().locator('[data-status="discarded"]').getByText("discarded").waitFor();
  }, 30_000);

  it("retries every failed event of a filter, after a preview of how many", async () => {
    broken = true;
    const paid = [await emit("web.paid", storeA), await emit("web.paid", storeA), await emit("web.paid", storeA)];
    await expect.poll(async () => (await sql`select count(*)::int as n from feyxa.events_log where id = any(${paid}::uuid[]) and status = 'failed'`)[0].n,
      { timeout: 10_000 }).toBe(3);
    await page.goto(`${base}/monitor/?type=web.paid&status=failed`);
    await expect.poll(() => rows().count()).toBe(3);
    broken = false;
    await page.getByTestId("bulk-retry").click();
    await page.getByTestId("bulk-preview").getByText("This will touch 3 events").waitFor();
    await screenshot(page, "monitor-bulk-preview");
    await page.getByTestId("bulk-yes").click();
    await page.getByTestId("bulk-result").getByText("3 changed").waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(async () => (await sql`select count(*)::int as n from feyxa.events_log where id = any(${paid}::uuid[]) and status = 'completed'`)[0].n,
      { timeout: 15_000 }).toBe(3);
    const [batch] = await sql`select id, kind, target from feyxa.monitor_actions where kind = 'bulk_retry'`;
    expect(batch.target.filter).toMatchObject({ type: "web.paid", status: ["failed"] });
    expect((await sql`select count(*)::int as n from feyxa.monitor_actions where parent_id = ${batch.id}`)[0].n).toBe(3);
  }, 40_000);

  it("re-drives a failure by its fingerprint: errors that differ only by ids are one group", async () => {
    const dead = [await emit("web.placed", storeA), await emit("web.placed", storeA)];
    await expect.poll(async () => (await sql`select count(*)::int as n from feyxa.events_log where id = any(${dead}::uuid[]) and status = 'completed'`)[0].n,
      { timeout: 10_000 }).toBe(2);
    // As if a refused payout had killed them, each error naming its own payout and amount.
    for (const [i, id] of dead.entries()) await markDead(sql, id, `web.pay: payout ${uuid()} of ${100 + i} XOF refused`);
    await page.goto(`${base}/monitor/?view=failures`);
    const group = page.getByTestId("failure-group").filter({ hasText: "web.pay: payout <id> of <n> XOF refused" });
    await group.waitFor();
    await group.getByTestId("redrive-group").click();
    await page.getByTestId("bulk-preview").getByText("This will touch 2 events").waitFor();
    await page.getByTestId("bulk-yes").click();
    await page.getByTestId("bulk-result").getByText("2 changed").waitFor();
    await page.keyboard.press("Escape");
    expect((await sql`select status from feyxa.events_log where id = any(${dead}::uuid[]) and status = 'dead'`)).toHaveLength(0);
    await page.getByTestId("view-audit").click();
    await page.getByTestId("audit").getByText("Re-drive the dead").first().waitFor();
    await screenshot(page, "monitor-audit-after-redrive");
  }, 40_000);

  it("discards one event with a reason, through its dialog", async () => {
    const id = await sql.begin(async (tx) => {
      const [{ id }] = await tx`select feyxa.emit_event('web.later', 'order', gen_random_uuid(), ${storeA}::uuid, '{}'::jsonb,
                                  p_deliver_at => now() + interval '1 day') as id`;
      return id as string;
    });
    await page.goto(`${base}/monitor/?event=${id}`);
    await page.getByTestId("detail").getByTestId("flow").getByText("Scheduled").waitFor();
    await page.getByTestId("discard").click();
    await page.getByTestId("reason").fill("sent by mistake");
    await page.getByTestId("confirm-yes").click();
    await page.getByTestId("action-result").getByText("Discarded").waitFor();
    expect((await sql`select status from feyxa.events_log where id = ${id}::uuid`)[0].status).toBe("discarded");
  }, 30_000);

  it("pauses a route from the routes view: its events wait; resumed, they complete", async () => {
    await page.goto(`${base}/monitor/?view=routes`);
    const route = page.getByTestId("route-row").filter({ hasText: "web.paid → web.flaky" });
    await route.getByTestId("toggle-route").click();
    await page.getByTestId("pause-reason").fill("provider outage");
    await page.getByTestId("pause-confirm").click();
    await page.getByTestId("pause-result").waitFor();
    await page.keyboard.press("Escape");
    await route.locator('[data-state="paused"]').waitFor();
    await screenshot(page, "monitor-routes-paused");
    const id = await emit("web.paid", storeA);
    await expect.poll(async () => (await sql`select status from feyxa.events_log where id = ${id}::uuid`)[0].status === "pending"
      && (await sql`select 1 from feyxa.event_handlers_log where event_id = ${id}::uuid and status = 'deferred'`).length > 0,
      { timeout: 10_000 }).toBe(true);
    expect(flaky.runs.get(id)).toBeUndefined();
    await route.getByTestId("toggle-route").click();
    await route.locator('[data-state="active"]').waitFor();
    await sql`update feyxa.event_queue set due_at = now() where event_id = ${id}::uuid`; // rather than wait out the 30 s recheck
    await expect.poll(async () => (await sql`select status from feyxa.events_log where id = ${id}::uuid`)[0].status, { timeout: 10_000 }).toBe("completed");
  }, 40_000);
});
