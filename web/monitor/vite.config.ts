/**
 * The monitor page's build. `npm start` builds it with Vite's JS API (src/local/monitor-page.ts)
 * and the local gateway serves it at /monitor/; `npx vite build web/monitor` does the same by hand.
 * For a Supabase project, build with VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY set and host
 * dist/ anywhere static: the page then signs in with Supabase Auth.
 */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  // Relative asset URLs: the page works under /monitor/ locally or at any path when hosted.
  base: "./",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  logLevel: "warn",
});
