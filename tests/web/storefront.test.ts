/**
 * The storefront in Chromium, as a buyer uses it: place an order and follow it to the end,
 * quantities bounded by the stock shown (refused before ordering), errors next to their
 * fields, a shortage found at order time in the buyer's words with the cart kept, the order
 * in the URL (a reload keeps it), one cart per shop, buyer words in English and French.
 */
import { describe, expect, it } from "vitest";
import { createDemoFunctions } from "../../src/marketplace/functions/demo.ts";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { testFunctions, token } from "../support/auth.ts";
import { uuid } from "../support/bus.ts";
import { openBrowser, screenshot, serveWithPage } from "../support/browser.ts";
import { checkout, runDemoMarketplace } from "../support/marketplace.ts";

const { sql, bus } = await runDemoMarketplace();
const base = await serveWithPage("storefront", createGateway({ ...testFunctions(bus), ...createDemoFunctions(bus) }));
const { browser, page } = await openBrowser();

const orders = async () => (await sql`select count(*)::int as n from orders`)[0].n as number;
const stockOf = async (name: string) => (await sql`select stock from products where name = ${name}`)[0].stock as number;
const quantity = (name: string) => page.getByLabel(`Quantity of ${name}`);
const badge = (name: string) => page.locator(`section.order [data-badge="${name}"]`);
const SLUGS: Record<string, string> = { "Atelier Dakar": "atelier-dakar", "Marché Abidjan": "marche-abidjan" };
/** Picks a shop in the header's select (by its slug: its label carries the cart's size). */
const pickShop = (name: string) => page.getByLabel("Shop", { exact: true }).selectOption(SLUGS[name]);
/** Money as the page's language writes it (Intl, in the browser itself). */
const money = (amount: number, locale = "en-US") =>
  page.evaluate(([a, l]) => new Intl.NumberFormat(l as string, { style: "currency", currency: "XOF" }).format(a as number), [amount, locale] as const);

/** The shop with empty carts (the page keeps them in localStorage across tests). */
async function openShop(name: string) {
  await page.goto(`${base}/storefront/`);
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await pickShop(name);
}

describe("the storefront", () => {
  it("places an order, pays, delivers, confirms, in the buyer's words, and keeps the order on reload", async () => {
    await page.goto(`${base}/`);
    await quantity("Woven basket").waitFor();
    await quantity("Woven basket").fill("2");
    await page.getByPlaceholder("you@example.com").fill("mariama@example.com");
    await page.getByRole("button", { name: "Place order" }).click();

    const order = page.locator("section.order");
    await order.locator('[data-handler="fintech.create_escrow"][data-status="success"]').waitFor({ state: "attached", timeout: 15_000 });
    await expect.poll(() => badge("money").getAttribute("data-value")).toBe("held");
    expect(await badge("money").locator("dd").textContent()).toBe("Kept safe until you receive your order");
    expect(await order.locator(".headline").textContent()).toContain("Waiting for your payment");
    const text = await order.textContent();
    for (const raw of ["pending_payment", "Escrow", "attempt", "fintech", "commerce."]) expect(text).not.toContain(raw);

    // The order is in the URL: a reload shows it again, and the stock shown has moved.
    const orderId = new URL(page.url()).searchParams.get("order");
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => page.locator('[data-product="Woven basket"] .stock').textContent(), { timeout: 10_000 }).toBe("23 in stock");
    expect(await quantity("Woven basket").inputValue()).toBe(""); // its stock taken, the cart let go of it
    await page.reload();
    await page.locator(`section.order[data-order]`).waitFor();
    expect(new URL(page.url()).searchParams.get("order")).toBe(orderId);
    await screenshot(page, "storefront-order-placed");

    await page.getByRole("button", { name: "Pay (demo provider)" }).click();
    await expect.poll(() => badge("payment").getAttribute("data-value"), { timeout: 15_000 }).toBe("paid");
    await page.getByRole("button", { name: "Deliver (courier)" }).click({ timeout: 15_000 });
    await expect.poll(() => badge("money").getAttribute("data-value"), { timeout: 15_000 }).toBe("released");
    await page.getByRole("button", { name: "Confirm receipt" }).click();
    await expect.poll(() => order.locator(".headline").textContent(), { timeout: 15_000 }).toContain("Received. Thank you!");
    await order.locator('[data-event="delivery.confirmed"] [data-handler="trust.audit_log"][data-status="success"]').waitFor({ state: "attached", timeout: 15_000 });
    await screenshot(page, "storefront-order-completed");

    const [row] = await sql`select o.status, e.status as escrow from orders o join escrows e on e.order_id = o.id where o.customer_email = 'mariama@example.com'`;
    expect(row).toEqual({ status: "completed", escrow: "released" });
    expect(await stockOf("Woven basket")).toBe(23);
  }, 60_000);

  it("refuses a quantity over the stock shown, or not whole, next to its field, before ordering", async () => {
    await openShop("Marché Abidjan");
    const before = await orders();
    expect(await quantity("Kente cloth").getAttribute("max")).toBe("1");
    await quantity("Kente cloth").fill("2");
    await expect.poll(() => quantity("Kente cloth").getAttribute("aria-invalid")).toBe("true");
    const describedBy = await quantity("Kente cloth").getAttribute("aria-describedby");
    expect(await page.locator(`#${describedBy}`).textContent()).toBe("Only 1 left: choose 1 or fewer.");
    await quantity("Shea butter").fill("1.5");
    expect(await page.locator(`#${await quantity("Shea butter").getAttribute("aria-describedby")}`).textContent()).toBe("Enter a whole number, like 1 or 2.");
    expect(await page.locator("[data-total]").textContent()).toBe(await money(0)); // refused lines count for nothing

    await page.getByPlaceholder("you@example.com").fill("kofi@example.com");
    await page.getByRole("button", { name: "Place order" }).click();
    // Focus goes to the first invalid field; nothing was ordered.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Quantity of Kente cloth");
    expect(await orders()).toBe(before);
    expect(await page.getByText("items.0.quantity").count()).toBe(0);
    await screenshot(page, "storefront-quantity-refused");
  }, 30_000);

  it("puts a bad email next to its field, focused", async () => {
    await openShop("Marché Abidjan");
    await quantity("Shea butter").fill("1");
    await page.getByPlaceholder("you@example.com").fill("kofi");
    await page.getByRole("button", { name: "Place order" }).click();
    const email = page.getByPlaceholder("you@example.com");
    await expect.poll(() => email.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#email-msg").textContent()).toBe("Enter your email address, like name@example.com.");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("type"))).toBe("email");
  }, 30_000);

  it("a shortage found at order time names the item and what is left, and keeps the cart", async () => {
    await openShop("Marché Abidjan");
    await quantity("Shea butter").fill("3");
    await page.getByPlaceholder("you@example.com").fill("kofi@example.com");
    await sql`update products set stock = 1 where name = 'Shea butter'`; // another buyer got there first
    const before = await orders();
    await page.getByRole("button", { name: "Place order" }).click();
    await expect.poll(() => page.locator('[data-product="Shea butter"] .stock').textContent()).toBe("1 in stock");
    const field = quantity("Shea butter");
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator(`#${await field.getAttribute("aria-describedby")}`).textContent()).toBe("Only 1 left: choose 1 or fewer.");
    expect(await field.inputValue()).toBe("3");
    expect(await orders()).toBe(before);
  }, 30_000);

  it("an order cancelled for lack of stock says which item and how many are left, with nothing to pay", async () => {
    const [store] = await sql`select id from stores where slug = 'marche-abidjan'`;
    const [kente] = await sql`select id from products where name = 'Kente cloth'`;
    const placed = await checkout(sql, { storeId: store.id, products: { Kente: kente.id } }, { Kente: 3 }); // past the page's check, as a race would
    await page.goto(`${base}/storefront/?order=${placed.order_id}`);
    const shortage = page.locator("section.order .shortage");
    await shortage.waitFor({ timeout: 15_000 });
    expect(await shortage.textContent()).toContain("Kente cloth: you asked for 3, 1 left.");
    expect(await page.locator("section.order .headline").textContent()).toContain("Cancelled");
    expect(await badge("payment").locator("dd").textContent()).toBe("Nothing to pay");
    expect(await badge("delivery").locator("dd").textContent()).toBe("Will not be sent");
    expect(await page.getByRole("button", { name: "Pay (demo provider)" }).count()).toBe(0);
    // The order's shop is shown under it.
    expect(await page.getByLabel("Shop", { exact: true }).inputValue()).toBe("marche-abidjan");
  }, 30_000);

  it("says so for an order id that is no order, without developer text", async () => {
    await page.goto(`${base}/storefront/?order=not-an-order`);
    await page.getByText("We could not find this order.").waitFor();
    await page.getByRole("button", { name: "Close" }).click();
    expect(new URL(page.url()).searchParams.get("order")).toBeNull();
  }, 30_000);

  it("keeps a cart per shop, and a shop switch closes another shop's order", async () => {
    const [basket] = await sql`select p.id, s.id as store_id from products p join stores s on s.id = p.store_id where p.name = 'Clay mug'`;
    const placed = await checkout(sql, { storeId: basket.store_id, products: { Mug: basket.id } }, { Mug: 1 });
    await page.goto(`${base}/storefront/?order=${placed.order_id}`);
    await page.locator("section.order[data-order]").waitFor();
    await quantity("Clay mug").fill("2");
    await pickShop("Marché Abidjan");
    expect(await page.locator("section.order").count()).toBe(0);
    expect(new URL(page.url()).searchParams.get("order")).toBeNull();
    // The other shop's cart is named with its size in the picker.
    expect(await page.locator('select.shop-picker option[value="atelier-dakar"]').textContent()).toBe("Atelier Dakar (2 in your cart)");
    await pickShop("Atelier Dakar");
    expect(await quantity("Clay mug").inputValue()).toBe("2");
    await page.reload();
    expect(await quantity("Clay mug").inputValue()).toBe("2");
    await quantity("Clay mug").fill("");
  }, 30_000);

  it("speaks French throughout", async () => {
    await page.goto(`${base}/storefront/?lang=fr`);
    await page.getByRole("button", { name: "Commander" }).waitFor();
    expect(await page.locator("html").getAttribute("lang")).toBe("fr");
    await page.getByLabel("Quantité de Clay mug").fill("500");
    expect(await page.getByText("Il n’en reste que").count()).toBe(1);
    await page.getByLabel("Langue").selectOption("en");
    await page.getByRole("button", { name: "Place order" }).waitFor();
    await page.getByLabel("Quantity of Clay mug").fill("");
  }, 30_000);

  it("scrolls the order into view on a phone", async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await phone.goto(`${base}/storefront/`);
    await phone.getByLabel("Quantity of Indigo scarf").fill("1");
    await phone.getByPlaceholder("you@example.com").fill("awa@example.com");
    await phone.getByRole("button", { name: "Place order" }).click();
    const heading = phone.locator("#order-title");
    await heading.waitFor();
    await expect.poll(() => heading.evaluate((h) => {
      const box = h.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    }), { timeout: 5_000 }).toBe(true);
    await screenshot(phone, "storefront-phone-order");
    await phone.close();
  }, 30_000);

  it("a signed-in buyer sees their orders, and a reload keeps them signed in", async () => {
    const buyer = uuid();
    await sql`insert into auth.users (id, email) values (${buyer}, 'binta@example.com')`;
    await page.goto(`${base}/storefront/#access_token=${await token(buyer)}`);
    await page.evaluate(() => localStorage.removeItem("feyxa.storefront.carts"));
    const mine = page.locator("section.my-orders");
    await mine.getByText("You have no orders yet.").waitFor();
    expect(new URL(page.url()).hash).toBe(""); // the token left the address bar

    await quantity("Clay mug").fill("1");
    await page.getByPlaceholder("you@example.com").fill("binta@example.com");
    await page.getByRole("button", { name: "Place order" }).click();
    await page.locator("section.order[data-order]").waitFor();
    const number = await page.locator("section.order").getAttribute("data-order");
    await mine.locator(`[data-my-order="${number}"]`).waitFor();
    const [row] = await sql`select customer_id from orders where order_number = ${number}`;
    expect(row.customer_id).toBe(buyer);

    await page.goto(`${base}/storefront/`);
    await page.getByRole("button", { name: `View order ${number}` }).click();
    await expect.poll(() => page.locator("section.order").getAttribute("data-order")).toBe(number);
    await screenshot(page, "storefront-my-orders");
    await page.getByRole("button", { name: "Sign out" }).click();
    expect(await mine.count()).toBe(0);
  }, 30_000);
});
