/**
 * The storefront as it runs beside a Supabase project: the page is hosted on one origin,
 * the functions answer on another (here: another port), so Chromium preflights every call
 * and refuses any answer without CORS headers. Placing an order end to end proves that
 * storefront, checkout, process-event and order-status answer CORS themselves (the
 * functions are served without the pages, by the bare gateway, which adds none), the
 * checkout's Idempotency-Key header included.
 */
import { describe, expect, it } from "vitest";
import { createGateway } from "../../src/bus/functions/gateway.ts";
import { testFunctions } from "../support/auth.ts";
import { openBrowser, screenshot, serveCrossOrigin } from "../support/browser.ts";
import { runDemoMarketplace } from "../support/marketplace.ts";

const { sql, bus } = await runDemoMarketplace();

/** Every request the functions' origin receives, as "METHOD /path (origin)". */
const seen: string[] = [];
const checkoutKeys: (string | null)[] = [];
const gateway = createGateway(testFunctions(bus));
const { pageUrl, functionsUrl } = await serveCrossOrigin("storefront", (request) => {
  seen.push(`${request.method} ${new URL(request.url).pathname} (${request.headers.get("origin")})`);
  if (request.method === "POST" && request.url.endsWith("/checkout")) checkoutKeys.push(request.headers.get("idempotency-key"));
  return gateway(request);
});
const { page } = await openBrowser();
const corsErrors: string[] = [];
page.on("console", (message) => { if (/CORS|Access-Control/i.test(message.text())) corsErrors.push(message.text()); });

describe("the storefront on another origin than its functions", () => {
  it("places an order through the functions, every call preflighted and allowed", async () => {
    const pageOrigin = new URL(pageUrl).origin;
    expect(pageOrigin).not.toBe(new URL(functionsUrl).origin);

    await page.goto(pageUrl);
    await page.getByLabel("Quantity of Woven basket").waitFor({ timeout: 15_000 });
    await page.getByLabel("Quantity of Woven basket").fill("1");
    await page.getByPlaceholder("you@example.com").fill("awa@example.com");
    await page.getByRole("button", { name: "Place order" }).click();

    const order = page.locator("section.order");
    await order.locator('[data-handler="fintech.create_escrow"][data-status="success"]').waitFor({ state: "attached", timeout: 15_000 });
    await expect.poll(() => order.locator('[data-badge="money"]').getAttribute("data-value")).toBe("held");
    await screenshot(page, "storefront-cross-origin-order-placed");

    const [row] = await sql`select status from orders where customer_email = 'awa@example.com'`;
    expect(row).toBeDefined();
    expect(corsErrors).toEqual([]);
    // The browser asked first (preflight) and then called, from the page's origin, each function the page uses.
    for (const fn of ["storefront", "checkout", "process-event", "order-status"]) {
      expect(seen).toContain(`OPTIONS /functions/v1/${fn} (${pageOrigin})`);
    }
    expect(seen).toContain(`POST /functions/v1/checkout (${pageOrigin})`);
    // The checkout's Idempotency-Key passed the preflight (allowed by every function's CORS).
    expect(checkoutKeys).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
  }, 60_000);

  it("offers a buyer a sign-in link by email from Supabase Auth (the page is built for a project)", async () => {
    const asked: unknown[] = [];
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "access-control-allow-methods": "POST, OPTIONS" };
    await page.route(`${functionsUrl}/auth/v1/otp**`, (route) => {
      if (route.request().method() === "POST") asked.push(route.request().postDataJSON());
      return route.fulfill({ status: 200, contentType: "application/json", headers: cors, body: "{}" });
    });
    await page.goto(pageUrl);
    const signIn = page.locator("section.my-orders");
    await signIn.getByLabel("Email").fill("nafi@example.com");
    await signIn.getByRole("button", { name: "Email me a sign-in link" }).click();
    await signIn.getByText("Check your email").waitFor();
    expect(asked).toEqual([expect.objectContaining({ email: "nafi@example.com" })]);
    await screenshot(page, "storefront-cross-origin-sign-in");
  }, 30_000);
});
