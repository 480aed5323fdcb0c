/**
 * The pages talk to the functions through supabase-js. Locally the functions gateway
 * serves the pages too, so the project URL is the page's own origin; on Supabase, set
 * VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY at build time.
 */
import { createClient } from "@supabase/supabase-js";

const env = (import.meta as unknown as { env: Record<string, string | undefined> }).env;

/** Built for a Supabase project (its URL and key set at build): Supabase Auth is there to sign users in. */
export const usesSupabaseAuth = Boolean(env.VITE_SUPABASE_URL && env.VITE_SUPABASE_ANON_KEY);

export const supabase = createClient(env.VITE_SUPABASE_URL ?? window.location.origin, env.VITE_SUPABASE_ANON_KEY ?? "local-anon-key", {
  auth: { persistSession: false },
});

/**
 * A function's refusal, as its JSON error body says it ({error, message, field?}) with the
 * HTTP status, so a page can put it next to the field it names; status is undefined when
 * the function was not reached at all (offline, DNS, CORS).
 */
export class FunctionError extends Error {
  override name = "FunctionError";
  constructor(message: string, readonly status?: number, readonly code?: string, readonly field?: string) {
    super(message);
  }
}

/**
 * Calls a function and returns its JSON, throwing a FunctionError with the function's own
 * message. With accessToken, the call is made as that signed-in user; headers are added
 * (an idempotency-key).
 */
export async function callFunction<T>(
  name: string,
  init: { method?: "GET" | "POST"; body?: unknown; accessToken?: string; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers = { ...init.headers, ...(init.accessToken ? { authorization: `Bearer ${init.accessToken}` } : {}) };
  const { data, error } = await supabase.functions.invoke(name, { method: init.method ?? "POST", body: init.body as never, headers });
  if (error) {
    const context = (error as { context?: Response }).context;
    const detail = context ? await context.json().catch(() => undefined) : undefined;
    throw new FunctionError(detail?.message ?? error.message, context?.status, detail?.error, detail?.field);
  }
  return data as T;
}
