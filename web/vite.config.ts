/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a `keel serve` on :8080; the production build is
// embedded in the keel binary and served from the same origin.
export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 400 },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'] },
});
