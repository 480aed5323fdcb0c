/**
 * The pages talk to the functions through supabase-js. Locally the functions gateway
 * serves the pages too, so the project URL is the page's own origin; on Supabase, set
 * VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY at build time.
 */
import { createClient } from "@supabase/supabase-js";

const env = (import.meta as unknown as { env: Record<string, string | undefined> }).env;

export const supabase = createClient(env.VITE_SUPABASE_URL ?? window.location.origin, env.VITE_SUPABASE_ANON_KEY ?? "local-anon-key", {
  auth: { persistSession: false },
});

/** Calls a function and returns its JSON, throwing the function's own error message. */
export async function callFunction<T>(name: string, init: { method?: "GET" | "POST"; body?: unknown } = {}): Promise<T> {
  const { data, error } = await supabase.functions.invoke(name, { method: init.method ?? "POST", body: init.body as never });
  if (error) {
    const context = (error as { context?: Response }).context;
    const detail = context ? await context.json().catch(() => undefined) : undefined;
    throw new Error(detail?.message ?? error.message);
  }
  return data as T;
}
