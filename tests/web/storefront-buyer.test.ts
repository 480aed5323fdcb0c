/**
 * Every buyer action, as a guest and signed in, on a phone (390 px) and a desktop (1440 px),
 * in Chromium: browse (pick a shop), fill the cart, check out (a double-clicked Order and a
 * checkout whose answer is lost and sent again each place one order), pay, follow the order
 * (a reload keeps it), confirm receipt, find it in "my orders" (a guest's: this device's),
 * and switch the language. Receipt is confirmed in the database, as the buyer it belongs to.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { createDemoFunctions } from "../../src/marketplace/functions/demo.ts";
import { testFunctions, token } from "../support/auth.ts";
import { openBrowser, screenshot, serveWithPage } from "../support/browser.ts";
import { uuid } from "../support/bus.ts";
import { runDemoMarketplace } from "../support/marketplace.ts";
import type { Sql } from "../../src/bus/types.ts";

const { sql, bus } = await runDemoMarketplace();
const base = await serveWithPage("storefront", createGateway({ ...testFunctions(bus), ...createDemoFunctions(bus) }));
const { browser } = await openBrowser();

const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1440, height: 900 } } as const;

async function newPage(browser: Browser, size: keyof typeof SIZES): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: SIZES[size], ...(size === "phone" ? { isMobile: true, hasTouch: true } : {}) });
  return { context, page: await context.newPage() };
}

const ordersOf = async (sql: Sql, email: string) =>
  await sql<{ id: string; order_number: string; customer_id: string | null; status: string; delivery: string }[]>`
    select o.id, o.order_number, o.customer_id, o.status, d.status as delivery
    from orders o join deliveries d on d.order_id = o.id where o.customer_email = ${email} order by o.created_at`;

for (const size of ["phone", "desktop"] as const) {
  for (const who of ["guest", "signed in"] as const) {
    describe(`a buyer ${who}, on a ${size} (${SIZES[size].width} px)`, () => {
      it("browses, fills the cart, double-clicks Order (one order), pays, follows, confirms receipt, finds it in their orders, reads it in French", async () => {
        const email = `${who === "guest" ? "guest" : "member"}-${size}-${uuid().slice(0, 6)}@example.com`;
        const buyer = uuid();
        await sql`insert into auth.users (id, email) values (${buyer}, ${email})`;
        const { context, page } = await newPage(browser, size);
        try {
          // Browse: open the page (signed in through a sign-in link), pick a shop.
          await page.goto(`${base}/storefront/${who === "signed in" ? `#access_token=${await token(buyer)}` : ""}`);
          await page.getByLabel("Shop", { exact: true }).selectOption("marche-abidjan");
          await page.getByLabel("Quantity of Cocoa beans 1 kg").waitFor();
          await page.getByLabel("Shop", { exact: true }).selectOption("atelier-dakar");

          // The cart: a quantity, its total.
          await page.getByLabel("Quantity of Clay mug").fill("2");
          const total = await page.evaluate(() => new Intl.NumberFormat("en-US", { style: "currency", currency: "XOF" }).format(7000));
          await expect.poll(() => page.locator("[data-total]").textContent()).toBe(total);
          await page.getByPlaceholder("you@example.com").fill(email);

          // Check out: a double-click places one order.
          await page.getByRole("button", { name: "Place order" }).dblclick();
          const order = page.locator("section.order[data-order]");
          await order.waitFor({ timeout: 15_000 });
          await page.waitForTimeout(500); // a second order, if any, would be placed by now
          const placed = await ordersOf(sql, email);
          expect(placed).toHaveLength(1);
          expect(placed[0].customer_id).toBe(who === "signed in" ? buyer : null);
          expect(await order.getAttribute("data-order")).toBe(placed[0].order_number);

          // Follow: the order's steps come in; a reload keeps it open.
          await order.locator('[data-handler="fintech.create_escrow"][data-status="success"]').waitFor({ state: "attached", timeout: 15_000 });
          await page.reload();
          await page.locator(`section.order[data-order="${placed[0].order_number}"]`).waitFor();

          // Pay, have it delivered, confirm receipt.
          await page.getByRole("button", { name: "Pay (demo provider)" }).click();
          await expect.poll(() => page.locator('[data-badge="payment"]').getAttribute("data-value"), { timeout: 15_000 }).toBe("paid");
          await page.getByRole("button", { name: "Deliver (courier)" }).click({ timeout: 15_000 });
          await page.getByRole("button", { name: "Confirm receipt" }).click({ timeout: 15_000 });
          const delivery = page.locator('section.order [data-badge="delivery"]');
          await expect.poll(() => delivery.getAttribute("data-value"), { timeout: 15_000 }).toBe("confirmed");
          expect(await delivery.locator("dd").textContent()).toBe("Received");
          expect(await page.locator("section.order [role=alert]").count()).toBe(0); // no "That did not work"
          expect((await ordersOf(sql, email))[0].delivery).toBe("confirmed");
          await expect.poll(() => page.locator("section.order .headline").textContent(), { timeout: 15_000 }).toContain("Received. Thank you!");

          // My orders: the account's when signed in, this device's for a guest.
          const mine = page.locator("section.my-orders");
          await mine.getByRole("heading", { name: who === "guest" ? "Your orders on this device" : "My orders" }).waitFor();
          const row = mine.locator(`[data-my-order="${placed[0].order_number}"]`);
          await expect.poll(() => row.locator(".my-status").getAttribute("data-status"), { timeout: 15_000 }).toBe("completed");
          await page.getByRole("button", { name: "Close" }).click();
          await page.getByRole("button", { name: `View order ${placed[0].order_number}` }).click();
          await page.locator(`section.order[data-order="${placed[0].order_number}"]`).waitFor();

          // Language: the order in French, then back.
          await page.getByLabel("Language").selectOption("fr");
          await expect.poll(() => page.locator("section.order .headline").textContent()).toContain("Reçue. Merci !");
          await mine.getByRole("heading", { name: who === "guest" ? "Vos commandes sur cet appareil" : "Mes commandes" }).waitFor();
          await page.getByLabel("Langue").selectOption("en");
          await page.getByRole("button", { name: "Place order" }).waitFor();
          await screenshot(page, `storefront-buyer-${who.replace(" ", "-")}-${size}`);
        } finally {
          await context.close();
        }
      }, 90_000);

      it("a checkout whose answer is lost, sent again, is the same order", async () => {
        const email = `retry-${who === "guest" ? "guest" : "member"}-${size}-${uuid().slice(0, 6)}@example.com`;
        const buyer = uuid();
        await sql`insert into auth.users (id, email) values (${buyer}, ${email})`;
        const { context, page } = await newPage(browser, size);
        try {
          await page.goto(`${base}/storefront/${who === "signed in" ? `#access_token=${await token(buyer)}` : ""}`);
          await page.getByLabel("Quantity of Woven basket").fill("1");
          await page.getByPlaceholder("you@example.com").fill(email);
          // The first checkout reaches the shop, which places the order, but its answer never comes back.
          const keys: string[] = [];
          await page.route("**/functions/v1/checkout", async (route) => {
            keys.push(route.request().headers()["idempotency-key"]);
            if (keys.length > 1) return route.continue();
            await route.fetch();
            await route.abort("connectionreset");
          });
          await page.getByRole("button", { name: "Place order" }).click();
          await page.getByText("We could not reach the shop").waitFor();
          expect(await ordersOf(sql, email)).toHaveLength(1);
          // The buyer presses Order again: the same attempt, the same key, the same order.
          await page.getByRole("button", { name: "Place order" }).click();
          await page.locator("section.order[data-order]").waitFor({ timeout: 15_000 });
          const placed = await ordersOf(sql, email);
          expect(placed).toHaveLength(1);
          expect(await page.locator("section.order").getAttribute("data-order")).toBe(placed[0].order_number);
          expect(keys).toHaveLength(2);
          expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          expect(keys[1]).toBe(keys[0]);
          // A new order after that success is a new attempt: a new key.
          await page.getByLabel("Quantity of Indigo scarf").fill("1");
          await page.getByRole("button", { name: "Place order" }).click();
          await expect.poll(async () => (await ordersOf(sql, email)).length, { timeout: 15_000 }).toBe(2);
          expect(keys).toHaveLength(3);
          expect(keys[2]).not.toBe(keys[0]);
        } finally {
          await context.close();
        }
      }, 60_000);
    });
  }
}
