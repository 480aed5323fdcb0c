/**
 * Who the operator is. Locally, `npm start` prints a link whose fragment carries an access
 * token (#access_token=…): a fragment never reaches a server, and the page removes it from
 * the address bar at once. On a Supabase project (VITE_SUPABASE_URL set at build), the
 * operator signs in with Supabase Auth and the session's access token is sent instead.
 */
import type { SupabaseClient } from "@supabase/supabase-js";

const TOKEN_KEY = "feyxa.monitor.access_token";
const { VITE_SUPABASE_URL: supabaseUrl, VITE_SUPABASE_ANON_KEY: anonKey } = import.meta.env;
export const usesSupabaseAuth = Boolean(supabaseUrl && anonKey);

export function takeTokenFromLink(): void {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("access_token");
  if (!token) return;
  localStorage.setItem(TOKEN_KEY, token);
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
}

let client: Promise<SupabaseClient> | undefined;
function supabase(): Promise<SupabaseClient> {
  // Loaded only where it is used, so the local page stays small.
  client ??= import("@supabase/supabase-js").then(({ createClient }) => createClient(supabaseUrl!, anonKey!));
  return client;
}

export async function accessToken(): Promise<string | undefined> {
  const local = localStorage.getItem(TOKEN_KEY);
  if (local) return local;
  if (!usesSupabaseAuth) return undefined;
  const { data } = await (await supabase()).auth.getSession();
  return data.session?.access_token;
}

export async function signInWithPassword(email: string, password: string): Promise<void> {
  const { error } = await (await supabase()).auth.signInWithPassword({ email, password });
  if (error) throw error;
}

export async function signOut(): Promise<void> {
  localStorage.removeItem(TOKEN_KEY);
  if (usesSupabaseAuth) await (await supabase()).auth.signOut();
}
