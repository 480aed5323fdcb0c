/**
 * The pages on the local gateway. Each folder web/<page>/ with a vite.config.ts is a page:
 * built once by Vite at start (into web/<page>/dist, git-ignored) and served at /<page>/
 * next to /functions/v1, so pages and functions share one origin, as on a Supabase project.
 */
import { existsSync, readdirSync } from "node:fs";
import { readFile, rename, rm, stat } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import type { FetchHandler } from "../bus/functions/index.ts";

export const WEB_ROOT = new URL("../../web/", import.meta.url).pathname;

export function pageNames(): string[] {
  return readdirSync(WEB_ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(WEB_ROOT, d.name, "vite.config.ts")))
    .map((d) => d.name)
    .sort();
}

/**
 * Builds the named pages (all by default), one after the other. Each is built beside its
 * dist and swapped in, so that a server (another `npm start`, a browser test) reading dist
 * never finds it emptied or half-written while a build runs.
 */
export async function buildPages(names: string[] = pageNames()): Promise<void> {
  const { build } = await import("vite");
  for (const name of names) {
    const dist = join(WEB_ROOT, name, "dist");
    const fresh = `${dist}-${process.pid}-${Date.now()}`;
    await build({ configFile: join(WEB_ROOT, name, "vite.config.ts"), logLevel: "warn", build: { outDir: fresh } });
    for (let tries = 0; ; tries++) {
      const old = `${fresh}-old${tries}`;
      await rename(dist, old).catch(() => {}); // none yet, or another build just moved it
      try {
        await rename(fresh, dist);
        await rm(old, { recursive: true, force: true });
        break;
      } catch (error) {
        await rm(old, { recursive: true, force: true });
        if (tries > 5) throw error; // another build swapped its dist in between our two renames: again
      }
    }
  }
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json", ".ico": "image/x-icon", ".woff2": "font/woff2",
};

/** GET /<page>/<file> from web/<page>/dist; a folder serves its index.html; "/" redirects to `home`. */
export function servePages(home: string): FetchHandler {
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/") return Response.redirect(new URL(home, request.url), 302);
    if (request.method !== "GET" && request.method !== "HEAD") return new Response("method not allowed", { status: 405 });
    const [, page, ...rest] = decodeURIComponent(pathname).split("/");
    if (!/^[a-z0-9-]+$/.test(page ?? "")) return new Response("not found", { status: 404 });
    if (rest.length === 0) return Response.redirect(new URL(`/${page}/`, request.url), 301);
    const dist = join(WEB_ROOT, page, "dist");
    const path = normalize(join(dist, ...rest));
    if (!path.startsWith(dist)) return new Response("not found", { status: 404 });
    for (const candidate of [path, join(path, "index.html")]) {
      const info = await stat(candidate).catch(() => undefined);
      if (info?.isFile()) {
        return new Response(await readFile(candidate), {
          headers: { "content-type": TYPES[extname(candidate)] ?? "application/octet-stream", "cache-control": "no-cache" },
        });
      }
    }
    return new Response("not found", { status: 404 });
  };
}

/** /functions/v1/* to the functions, everything else to the pages. */
export function withPages(functions: FetchHandler, pages: FetchHandler): FetchHandler {
  return (request) => (new URL(request.url).pathname.startsWith("/functions/") ? functions(request) : pages(request));
}
