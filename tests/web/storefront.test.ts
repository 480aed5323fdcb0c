/** The checkout page in Chromium: place an order and watch the engines work on it, live. */
import { describe, expect, it } from "vitest";
import { createDemoFunctions } from "../../src/marketplace/functions/demo.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { testFunctions } from "../support/auth.ts";
import { openBrowser, screenshot, serveWithPage } from "../support/browser.ts";
import { runDemoMarketplace } from "../support/marketplace.ts";

const { sql, bus } = await runDemoMarketplace();
const base = await serveWithPage("storefront", createGateway({ ...testFunctions(bus), ...createDemoFunctions(bus) }));
const { page } = await openBrowser();

describe("the checkout page", () => {
  it("places an order, pays, delivers, confirms, and shows what each engine did", async () => {
    await page.goto(`${base}/`);
    await page.getByRole("button", { name: "Atelier Dakar" }).waitFor();
    await page.getByLabel("Quantity of Woven basket").fill("2");
    await page.getByPlaceholder("you@example.com").fill("mariama@example.com");
    await page.getByRole("button", { name: "Place order" }).click();

    const order = page.locator("section.order");
    await order.locator('[data-handler="fintech.create_escrow"][data-status="success"]').waitFor({ timeout: 15_000 });
    await order.locator('[data-handler="commerce.decrement_stock"][data-status="success"]').waitFor();
    await expect.poll(() => order.locator('[data-badge="escrow"] dd').textContent()).toBe("held");
    await screenshot(page, "storefront-order-placed");

    await page.getByRole("button", { name: "Pay (demo provider)" }).click();
    await expect.poll(() => order.locator('[data-badge="payment"] dd').textContent(), { timeout: 15_000 }).toBe("paid");
    await order.locator('[data-event="payment.paid"] [data-handler="commerce.update_order_status"][data-status="success"]').waitFor({ timeout: 15_000 });

    await page.getByRole("button", { name: "Deliver (courier)" }).click();
    await expect.poll(() => order.locator('[data-badge="escrow"] dd').textContent(), { timeout: 15_000 }).toBe("released");
    await page.getByRole("button", { name: "Confirm receipt" }).click();
    await order.locator('[data-event="delivery.confirmed"] [data-handler="trust.audit_log"][data-status="success"]').waitFor({ timeout: 15_000 });
    await screenshot(page, "storefront-order-completed");

    const [row] = await sql`select o.status, e.status as escrow from orders o join escrows e on e.order_id = o.id where o.customer_email = 'mariama@example.com'`;
    expect(row).toEqual({ status: "completed", escrow: "released" });
    const [stock] = await sql`select stock from products where name = 'Woven basket'`;
    expect(stock.stock).toBe(23);
  }, 60_000);

  it("shows a checkout error the buyer can act on", async () => {
    await page.goto(`${base}/storefront/`);
    await page.getByRole("button", { name: "Marché Abidjan" }).click();
    await page.getByLabel("Quantity of Kente cloth").fill("2000");
    await page.getByPlaceholder("you@example.com").fill("kofi@example.com");
    await page.getByRole("button", { name: "Place order" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent(), { timeout: 10_000 }).toContain("quantity");
  }, 30_000);
});
