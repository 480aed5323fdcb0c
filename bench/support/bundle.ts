/**
 * The dispatcher as the bench runs it: src/local/dispatcher.ts (and the bench's handlers)
 * bundled by esbuild into one plain JavaScript file each, run with plain `node`. Under tsx
 * the same process carries tsx's loader (a second isolate that compiles TypeScript),
 * about 50 MB of its resident set before any event. Dependencies stay in node_modules
 * (the bundle is written under node_modules/.cache so that Node resolves them there).
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUT_DIR = `${ROOT}node_modules/.cache/feyxa-bench`;

export interface DispatcherBundle {
  /** The dispatcher CLI, plain JavaScript. */
  dispatcher: string;
  /** The bench's handlers module, plain JavaScript, for FEYXA_HANDLERS. */
  handlers: string;
  /**
   * The same handlers with an OpenTelemetry SDK registered (bench/traced-handlers.ts), or
   * BENCH_TRACED_HANDLERS: a module of one's own that registers an SDK and re-exports
   * `handlers` from this bundle's noop-handlers.mjs (another SDK release, another exporter;
   * docs/performance.md shows one on OpenTelemetry JS 3).
   */
  tracedHandlers: string;
}

let built: Promise<DispatcherBundle> | undefined;

export function bundleDispatcher(): Promise<DispatcherBundle> {
  built ??= build({
    entryPoints: {
      dispatcher: `${ROOT}src/local/dispatcher.ts`,
      "noop-handlers": `${ROOT}bench/noop-handlers.ts`,
      "traced-handlers": `${ROOT}bench/traced-handlers.ts`,
    },
    outdir: OUT_DIR,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  }).then(() => ({
    dispatcher: `${OUT_DIR}/dispatcher.mjs`,
    handlers: `${OUT_DIR}/noop-handlers.mjs`,
    tracedHandlers: process.env.BENCH_TRACED_HANDLERS ?? `${OUT_DIR}/traced-handlers.mjs`,
  }));
  return built;
}
