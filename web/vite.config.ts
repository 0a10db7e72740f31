/// <reference types="vitest/config" />
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// Multi-page build. Output (served by the tenantgate binary):
//   dist/index.html             the app (admin dashboard + customer portal) at /
//   dist/playground/index.html  GraphiQL at /playground
//   dist/assets/*               hashed JS/CSS/fonts, cacheable forever
// Everything is self-hosted: the server's CSP allows no other origin and no inline script.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // GraphiQL (CodeMirror, graphql-js, the language service) is one big chunk by nature;
    // it is only loaded on /playground.
    chunkSizeWarningLimit: 2000,
    // Inline nothing as data: URIs into JS; keeps the CSP story simple (fonts inside
    // GraphiQL's own CSS stay data: URIs, which font-src allows).
    assetsInlineLimit: 0,
    rolldownOptions: {
      onwarn(warning, defaultHandler) {
        // React libraries mark their modules "use client" for server-component bundlers;
        // meaningless in this client-only build.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        defaultHandler(warning);
      },
      input: {
        main: resolve(root, 'index.html'),
        playground: resolve(root, 'playground/index.html'),
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
