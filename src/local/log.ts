/** The local processes' console lines, with any credential blanked out of error messages. */
import { redactSecrets } from "../bus/errors.ts";

export const log = (message: string) => console.log(`feyxa  ${message}`);

export const logError = (error: unknown) =>
  console.error(`feyxa  error: ${redactSecrets(error instanceof Error ? error.message : String(error))}`);

/**
 * Stops the process gracefully on SIGINT / SIGTERM, once: runs `stop` (which lets
 * in-flight work finish and closes what it opened), then exits 0.
 */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (in-flight handlers finish first)`);
    await stop();
    log("stopped");
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
