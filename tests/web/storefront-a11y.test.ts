/**
 * Each view of the storefront at a desktop (1440×900) and a phone (390×844) size, with 89
 * shops (as many as the issue's tester had): no horizontal page overflow, no serious or
 * critical axe violation (contrast included), and a screenshot of each written to
 * artifacts/ (git-ignored). Views: the shop, the cart with errors next to its fields, an
 * order (its steps unfolded), a signed-in buyer's orders, a guest's orders on this device,
 * and the shop in French. And the keyboard: the skip link is the first Tab stop and lands on
 * the products; the first product is at most 10 Tab presses from the top of the page.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createDemoFunctions } from "../../src/marketplace/functions/demo.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { testFunctions, token } from "../support/auth.ts";
import { openBrowser, screenshot, serveWithPage } from "../support/browser.ts";
import { uuid } from "../support/bus.ts";
import { checkout, runDemoMarketplace } from "../support/marketplace.ts";

const { sql, bus } = await runDemoMarketplace();
const base = await serveWithPage("storefront", createGateway({ ...testFunctions(bus), ...createDemoFunctions(bus) }));
const { browser } = await openBrowser();

const buyer = uuid();
await sql`insert into auth.users (id, email) values (${buyer}, 'nafi@example.com')`;
const [mug] = await sql`select p.id, p.store_id from products p where p.name = 'Clay mug'`;
const placed = await checkout(sql, { storeId: mug.store_id, products: { Mug: mug.id } }, { Mug: 2 });
await sql`update orders set customer_id = ${buyer} where id = ${placed.order_id}`;
const buyerToken = await token(buyer);
// 87 more shops, after the demo's two by name: 89 in the picker.
await sql`insert into stores (name, slug, currency)
          select 'Shop ' || lpad(i::text, 3, '0'), 'shop-' || i, 'XOF' from generate_series(1, 87) i`;

/** Each view: how to reach it from a fresh page, and what shows it is there. */
const VIEWS: Record<string, (page: Page) => Promise<void>> = {
  shop: async (page) => {
    await page.goto(`${base}/storefront/`);
    await page.getByLabel("Quantity of Clay mug").waitFor();
  },
  "cart-errors": async (page) => {
    await page.goto(`${base}/storefront/?store=marche-abidjan`);
    await page.getByLabel("Quantity of Kente cloth").fill("4");
    await page.getByPlaceholder("you@example.com").fill("not an email");
    await page.getByRole("button", { name: "Place order" }).click();
    await page.locator("#email-msg").waitFor();
  },
  order: async (page) => {
    await page.goto(`${base}/storefront/?order=${placed.order_id}`);
    await page.locator("section.order[data-order]").waitFor();
    await page.locator("section.order summary").click();
    await page.locator("section.order [data-handler]").first().waitFor();
  },
  "my-orders": async (page) => {
    await page.goto(`${base}/storefront/#access_token=${buyerToken}`);
    await page.locator(`[data-my-order="${placed.order_number}"]`).waitFor();
  },
  "device-orders": async (page) => {
    await page.addInitScript((order) => {
      localStorage.setItem("feyxa.storefront.guest-orders", JSON.stringify([{ id: order, email: "buyer@example.com" }]));
    }, placed.order_id);
    await page.goto(`${base}/storefront/`);
    await page.locator(`[data-my-order="${placed.order_number}"]`).waitFor();
  },
  french: async (page) => {
    await page.goto(`${base}/storefront/?lang=fr&order=${placed.order_id}`);
    await page.getByRole("button", { name: "Commander" }).waitFor();
    await page.locator("section.order[data-order]").waitFor();
  },
};

const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;

describe("the storefront's views, accessible and within the screen", () => {
  for (const [size, viewport] of Object.entries(SIZES)) {
    for (const [view, open] of Object.entries(VIEWS)) {
      it(`${view} at ${viewport.width}×${viewport.height}`, async () => {
        // A context of its own per view (axe needs one; each starts with empty storage).
        const context = await browser.newContext({ viewport, ...(size === "phone" ? { isMobile: true, hasTouch: true } : {}) });
        const page = await context.newPage();
        try {
          await open(page);
          const width = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
          expect(width.page, "no horizontal page scroll").toBeLessThanOrEqual(width.screen);
          const { violations } = await new AxeBuilder({ page }).analyze();
          const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
          expect(serious).toEqual([]);
          await screenshot(page, `storefront-${view}-${size}`);
        } finally {
          await context.close();
        }
      }, 30_000);
    }
  }

  for (const [size, viewport] of Object.entries(SIZES)) {
    for (const signedIn of [false, true]) {
      it(`keyboard at ${viewport.width} px${signedIn ? ", signed in" : ""}: the skip link first, then the first product within 10 Tab presses`, async () => {
        const context = await browser.newContext({ viewport, ...(size === "phone" ? { isMobile: true, hasTouch: true } : {}) });
        const page = await context.newPage();
        try {
          await page.goto(`${base}/storefront/${signedIn ? `#access_token=${buyerToken}` : ""}`);
          const first = page.locator("#products input").first();
          await first.waitFor();
          expect(await page.locator("select.shop-picker option").count()).toBe(89);
          const focused = () => page.evaluate(() => {
            const el = document.activeElement as HTMLElement;
            return { id: el.id, cls: el.className, label: el.getAttribute("aria-label") ?? el.textContent?.trim() };
          });
          const firstLabel = await first.getAttribute("aria-label");

          // Tab after Tab from the top, not using the skip link.
          let presses = 0;
          while ((await focused()).label !== firstLabel && presses < 30) {
            await page.keyboard.press("Tab");
            presses++;
          }
          expect(presses, "Tab presses from the top to the first product").toBeLessThanOrEqual(10);

          // The skip link: the first Tab stop, visible when focused; Enter moves focus to the products.
          await page.reload();
          await first.waitFor();
          await page.keyboard.press("Tab");
          expect((await focused()).cls).toBe("skip-link");
          const box = await page.locator(".skip-link").boundingBox();
          expect(box!.y).toBeGreaterThanOrEqual(0);
          await page.keyboard.press("Enter");
          expect((await focused()).id).toBe("products");
          await page.keyboard.press("Tab");
          expect((await focused()).label).toBe(firstLabel);
        } finally {
          await context.close();
        }
      }, 30_000);
    }
  }

  it("the Place order button, disabled while an order is placed, reads at 4.5:1 or more", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/storefront/`);
    const button = page.getByRole("button", { name: "Place order" });
    await button.evaluate((b: HTMLButtonElement) => { b.disabled = true; }); // axe skips disabled controls: measured here
    const ratio = await button.evaluate((b) => {
      const rgb = (c: string) => c.match(/\d+(\.\d+)?/g)!.slice(0, 3).map(Number);
      const lum = (c: number[]) => {
        const [r, g, bl] = c.map((v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
      };
      const style = getComputedStyle(b);
      const [a, z] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))].sort((x, y) => y - x);
      return Number(style.opacity) === 1 ? (a + 0.05) / (z + 0.05) : 0;
    });
    expect(ratio).toBeGreaterThanOrEqual(4.5);
    await context.close();
  });
});
