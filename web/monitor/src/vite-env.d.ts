/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** A Supabase project: sign in with Supabase Auth and call its functions. Unset: the local gateway. */
  readonly VITE_SUPABASE_URL?: string;
  readonly VITE_SUPABASE_ANON_KEY?: string;
}
