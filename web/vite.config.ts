import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The Manage Connections web app, served by Nexus under /manage/ from
 * web/dist (src/http/web-app-route.ts). Preact through the automatic JSX
 * runtime; no plugin needed for a production build.
 */
export default defineConfig({
  root,
  base: '/manage/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
