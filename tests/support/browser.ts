/**
 * Real-browser tests: the pages built by Vite, served with the functions by the local
 * gateway on a free port, and Debian's Chromium driven by playwright-core.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll } from "vitest";
import type { FetchHandler } from "../../src/core/http.ts";
import { serveNode } from "../../src/local/node-http.ts";
import { buildPages, servePages, withPages } from "../../src/local/web.ts";
import { freePort } from "./test-postgres.ts";

export const ARTIFACTS = new URL("../../artifacts/", import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Builds the page, serves it with the given functions; returns the base URL. Stopped after the file's tests. */
export async function serveWithPage(page: string, functions: FetchHandler): Promise<string> {
  await buildPages([page]);
  const port = await freePort();
  const server = await serveNode(withPages(functions, servePages(`/${page}/`)), port);
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://localhost:${port}`;
}

export async function openBrowser(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"], // playwright gives each launch a fresh, empty profile
  });
  afterAll(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  return { browser, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
