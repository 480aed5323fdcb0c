/**
 * The storefront in French, in Chromium: no English word left on any view (text, labels,
 * placeholders, the page's title; product and shop names are the shops' own, and the
 * "English" choice of the language picker is marked lang="en"), and every number, price and
 * date written by Intl for fr-FR, the page's language (grouped digits, the currency's sign
 * where French puts it, French month names), as they are in English for en-US.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { createDemoFunctions } from "../../src/marketplace/functions/demo.ts";
import { STRINGS } from "../../web/storefront/strings.ts";
import { testFunctions, token } from "../support/auth.ts";
import { openBrowser, serveWithPage } from "../support/browser.ts";
import { uuid } from "../support/bus.ts";
import { checkout, runDemoMarketplace } from "../support/marketplace.ts";

const { sql, bus } = await runDemoMarketplace();
const base = await serveWithPage("storefront", createGateway({ ...testFunctions(bus), ...createDemoFunctions(bus) }));
const { browser } = await openBrowser();

await sql`update products set stock = 1500, allow_backorder = false where name = 'Cocoa beans 1 kg'`;
const buyer = uuid();
await sql`insert into auth.users (id, email) values (${buyer}, 'aminata@example.com')`;
const [mug] = await sql`select p.id, p.store_id from products p where p.name = 'Clay mug'`;
const placed = await checkout(sql, { storeId: mug.store_id, products: { Mug: mug.id } }, { Mug: 2 }, { email: "aminata@example.com" });
await sql`update orders set customer_id = ${buyer} where id = ${placed.order_id}`;
const buyerToken = await token(buyer);

/** Words of the English strings that French never uses; the shops' own names (data) are not the page's words. */
const words = (text: string) => text.toLowerCase().replace(/\{\w+\}/g, " ").match(/\p{L}[\p{L}'’]+/gu) ?? [];
const french = new Set(Object.values(STRINGS.fr).flatMap(words));
const names = new Set((await sql`select name from products union all select name from stores`).flatMap((r) => words(r.name)));
const englishOnly = new Set(Object.values(STRINGS.en).flatMap(words).filter((w) => !french.has(w) && !names.has(w)));

/** Every word the page shows or says (text, accessible names, placeholders, title), outside elements marked as another language. */
async function pageWords(page: Page): Promise<string[]> {
  const text = await page.evaluate(() => {
    const foreign = (el: Element) => el.closest("[lang]:not(html)") !== null;
    const parts: string[] = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!foreign(node.parentElement!) && !node.parentElement!.closest("script, style")) parts.push(node.textContent ?? "");
    }
    for (const el of document.querySelectorAll("[aria-label], [placeholder], [title], [alt]")) {
      if (foreign(el)) continue;
      for (const a of ["aria-label", "placeholder", "title", "alt"]) parts.push(el.getAttribute(a) ?? "");
    }
    return parts.join(" ");
  });
  return words(text);
}

const VIEWS: Record<string, (page: Page) => Promise<void>> = {
  "the shop, a cart with errors": async (page) => {
    await page.goto(`${base}/storefront/?lang=fr&store=marche-abidjan`);
    await page.getByLabel("Quantité de Kente cloth").fill("4");
    await page.getByLabel("Quantité de Shea butter").fill("1.5");
    await page.getByRole("button", { name: "Commander" }).click();
    await page.locator("#email-msg").waitFor();
  },
  "an order, its steps unfolded, and the signed-in buyer's orders": async (page) => {
    await page.goto(`${base}/storefront/?lang=fr&order=${placed.order_id}#access_token=${buyerToken}`);
    await page.locator("section.order [data-handler]").first().waitFor({ state: "attached", timeout: 15_000 });
    await page.locator("section.order summary").click();
    await page.locator(`[data-my-order="${placed.order_number}"]`).waitFor();
  },
  "a guest's orders on this device": async (page) => {
    await page.addInitScript((id) => localStorage.setItem("feyxa.storefront.guest-orders", JSON.stringify([{ id, email: "aminata@example.com" }])), placed.order_id);
    await page.goto(`${base}/storefront/?lang=fr`);
    await page.locator(`[data-my-order="${placed.order_number}"]`).waitFor();
  },
};

describe("the storefront in French", () => {
  for (const [view, open] of Object.entries(VIEWS)) {
    it(`${view}: no English word left`, async () => {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      try {
        await open(page);
        expect(await page.locator("html").getAttribute("lang")).toBe("fr");
        expect(await page.title()).toBe("Marché Feyxa");
        const left = [...new Set((await pageWords(page)).filter((w) => englishOnly.has(w)))];
        expect(left).toEqual([]);
      } finally {
        await context.close();
      }
    }, 30_000);
  }

  it("the checker finds English where there is some (the same views in English)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/storefront/?store=marche-abidjan`);
    await page.getByLabel("Quantity of Kente cloth").waitFor();
    expect((await pageWords(page)).filter((w) => englishOnly.has(w)).length).toBeGreaterThan(5);
    await context.close();
  });

  for (const [lang, locale] of [["fr", "fr-FR"], ["en", "en-US"]] as const) {
    it(`writes numbers, prices and dates through Intl for ${locale}`, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(`${base}/storefront/?lang=${lang}&store=marche-abidjan#access_token=${buyerToken}`);
        const card = page.locator('[data-product="Cocoa beans 1 kg"]');
        await card.waitFor();
        const intl = await page.evaluate((l) => ({
          price: new Intl.NumberFormat(l, { style: "currency", currency: "XOF" }).format(6000),
          stock: new Intl.NumberFormat(l).format(1500),
          total: new Intl.NumberFormat(l, { style: "currency", currency: "XOF" }).format(7000),
          date: new Intl.DateTimeFormat(l, { dateStyle: "medium" }).format(new Date()),
          many: new Intl.NumberFormat(l).format(1000),
        }), locale);
        expect(await card.locator(".price").textContent()).toBe(intl.price);
        expect(await card.locator(".stock").textContent()).toBe(lang === "fr" ? `${intl.stock} en stock` : `${intl.stock} in stock`);
        expect(intl.stock).toMatch(/^1\D500$/); // grouped, with the language's separator
        // Too many: the bound written as the language writes numbers.
        await card.getByRole("spinbutton").fill("5000");
        expect(await card.locator(".field-error").textContent()).toBe(lang === "fr" ? `${intl.many} au plus à la fois.` : `At most ${intl.many} at a time.`);
        await card.getByRole("spinbutton").fill("");
        // The signed-in buyer's order: its total and its date.
        const row = page.locator(`[data-my-order="${placed.order_number}"]`);
        await row.waitFor();
        expect(await row.textContent()).toContain(intl.total);
        expect(await row.textContent()).toContain(intl.date);
      } finally {
        await context.close();
      }
    }, 30_000);
  }
});
