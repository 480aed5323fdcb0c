import type { Handler, HandlerFn } from "./types.ts";

/** Names a handler function: `defineHandler("fintech.create_escrow", async (event, ctx) => {...})`. */
export function defineHandler<P = Record<string, unknown>>(name: string, run: HandlerFn<P>, options: { timeoutMs?: number } = {}): Handler {
  if (!/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/.test(name)) throw new Error(`handler name ${name} must look like engine.handler`);
  return { name, run: run as HandlerFn, ...options };
}
