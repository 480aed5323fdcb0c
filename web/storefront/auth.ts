/**
 * The signed-in buyer, if any. A sign-in link carries an access token in its fragment
 * (#access_token=…): locally `npm start` prints one for the demo buyer; on a Supabase
 * project, a magic link of Supabase Auth (implicit flow) lands the same way. A fragment
 * never reaches a server, and the page removes it from the address bar at once. Guests
 * need none: they check out and follow their order by its id.
 */
import { supabase } from "../shared/supabase.ts";

const TOKEN_KEY = "feyxa.storefront.access_token";

export function takeTokenFromLink(): void {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("access_token");
  if (!token) return;
  localStorage.setItem(TOKEN_KEY, token);
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
}

export const accessToken = (): string | undefined => localStorage.getItem(TOKEN_KEY) ?? undefined;
export const signOut = (): void => localStorage.removeItem(TOKEN_KEY);

/** The email the token was issued for (Supabase Auth puts it in the claims), to fill the form. */
export function tokenEmail(token: string | undefined): string | undefined {
  try {
    const claims = JSON.parse(atob(token!.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof claims.email === "string" ? claims.email : undefined;
  } catch {
    return undefined;
  }
}

/** Supabase Auth mails a magic link back to this page (implicit flow: the token in the fragment). */
export async function sendSignInLink(email: string): Promise<void> {
  const { error } = await supabase.auth.signInWithOtp({ email, options: { emailRedirectTo: window.location.href.split("#")[0] } });
  if (error) throw error;
}
