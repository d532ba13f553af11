/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';

// GraphiQL's stylesheet embeds its fonts (Roboto, Fira Code) as `data:` URLs, which the app's
// CSP (`font-src` falls back to 'self') refuses, one violation per font. Rather than loosen
// the CSP, drop those @font-face rules: GraphiQL then uses its fallbacks (sans-serif,
// monospace). A transform of one file; no published plugin does this.
function graphiqlWithoutDataFonts(): Plugin {
  return {
    name: 'keel:graphiql-without-data-fonts',
    enforce: 'pre',
    transform(code, id) {
      if (!/[\\/]graphiql[\\/]dist[\\/]style\.css$/.test(id)) return null;
      return { code: code.replace(/@font-face\s*\{[^}]*\}/g, ''), map: null };
    },
  };
}

// `npm run dev` proxies the API to a `keel serve` on :8080; the production build is
// embedded in the keel binary and served from the same origin.
export default defineConfig({
  plugins: [react(), graphiqlWithoutDataFonts()],
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 400 },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'] },
});
