/**
 * The local processes' output. npm start's banner (what runs where) is plain lines; the
 * notable events of a process (start, stop, claim errors, handler failures, leases lost,
 * reconnects, errors) are JSON lines (src/bus/telemetry/logger.ts) at FEYXA_LOG_LEVEL
 * (debug, info, warn, error; default info), any credential blanked out.
 */
import { busSetting, errorField, jsonLogger, type Logger } from "../bus/index.ts";

export const log = (message: string) => console.log(`feyxa  ${message}`);

let current: Logger | undefined;

/** The process's JSON logger, made at the first call from FEYXA_LOG_LEVEL (an unknown level throws, naming it). */
export function processLogger(): Logger {
  current ??= jsonLogger({ level: busSetting(process.env, "FEYXA_LOG_LEVEL"), base: { pid: process.pid } });
  return current;
}

/** An error with no caller to answer, as a JSON line (at error level, always written). */
export const logError = (error: unknown) =>
  (current ?? jsonLogger({ level: "error", base: { pid: process.pid } })).error("error", { error: errorField(error) });

/**
 * Stops the process gracefully on SIGINT / SIGTERM, once: runs `stop` (which lets
 * in-flight work finish and closes what it opened), then exits 0.
 */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    processLogger().info("stop", { signal, note: "in-flight handlers finish first" });
    await stop();
    processLogger().info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

/** Runs a process's main function; an error that escapes it is logged and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error) => {
    logError(error);
    process.exit(1);
  });
}
