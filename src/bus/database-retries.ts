/**
 * Retrying through a database blip: what the Bus does with the results of handlers that
 * already ran, rather than let their lease expire and run them again.
 */
import { toHttpError } from "./errors.ts";

/** Retries an operation while the database is unavailable (as toHttpError classifies it: 503), for up to budgetMs. */
export async function withRetries<T>(operation: () => Promise<T>, budgetMs: number): Promise<T> {
  const deadline = performance.now() + budgetMs;
  for (let delay = 100;; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await operation();
    } catch (error) {
      if (toHttpError(error).status !== 503 || performance.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
