/** The storefront page's build: `npm start` builds every web/<page>/ with its own config and serves it at /<page>/. */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "./", // relative asset URLs: served under /storefront/ locally, or at any path when hosted
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  logLevel: "warn",
});
