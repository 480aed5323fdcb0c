/**
 * Real-browser tests: the pages built by Vite, served with the functions by the local
 * gateway on a free port (or, for CORS, from another origin than the functions), and
 * Debian's Chromium driven by playwright-core.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll } from "vitest";
import type { FetchHandler } from "../../src/bus/http.ts";
import { serveNode } from "../../src/local/node-http.ts";
import { buildPages, servePages, WEB_ROOT, withPages } from "../../src/local/web.ts";
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

/**
 * The page as it is hosted beside a Supabase project: built with VITE_SUPABASE_URL set to
 * the functions' origin, and served by a small static server on another port, so every
 * call the page makes is cross-origin and preflighted. The functions are served alone (no
 * pages) on their own port. Returns both origins; stopped after the file's tests.
 */
export async function serveCrossOrigin(page: string, functions: FetchHandler): Promise<{ pageUrl: string; functionsUrl: string }> {
  const functionsUrl = `http://localhost:${await freePort()}`;
  const scratch = await mkdtemp(join(tmpdir(), `feyxa-${page}-`));
  await writeFile(join(scratch, ".env"), `VITE_SUPABASE_URL=${functionsUrl}\nVITE_SUPABASE_ANON_KEY=sb_publishable_cross_origin_test\n`);
  const { build } = await import("vite");
  const dist = join(scratch, "dist");
  await build({ configFile: join(WEB_ROOT, page, "vite.config.ts"), envDir: scratch, logLevel: "warn", build: { outDir: dist, emptyOutDir: true } });
  const api = await serveNode(functions, Number(new URL(functionsUrl).port));
  const pagePort = await freePort();
  const pages = await serveNode(serveStatic(dist), pagePort);
  afterAll(async () => {
    await Promise.all([api, pages].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await rm(scratch, { recursive: true, force: true });
  });
  return { pageUrl: `http://localhost:${pagePort}/`, functionsUrl };
}

/** GET of the files under a folder ("/" is its index.html): the static host of a built page. */
function serveStatic(dir: string): FetchHandler {
  const types: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml" };
  return async (request) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(request.url).pathname)));
    const file = path.endsWith("/") ? join(path, "index.html") : path;
    if (!file.startsWith(dir) || !(await stat(file).catch(() => undefined))?.isFile()) return new Response("not found", { status: 404 });
    return new Response(await readFile(file), { headers: { "content-type": types[extname(file)] ?? "application/octet-stream" } });
  };
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

/** The two screens every monitor view is tried at. */
export const SIZES = { laptop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;

/**
 * `functions` served with the page `name`, and a browser page at laptop size, of a context
 * made here (axe needs one the test made, not browser.newPage()).
 */
export async function servePage(name: string, functions: FetchHandler): Promise<{ base: string; page: Page }> {
  const base = await serveWithPage(name, functions);
  const { browser } = await openBrowser();
  const page = await (await browser.newContext({ viewport: SIZES.laptop })).newPage();
  return { base, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
