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
  resolve: {
    // src/api/errors.ts imports the TypeScript client package's source (clients/ts/src): one
    // copy of the runtime even if clients/ts has node_modules of its own, so that
    // `instanceof ConnectError` holds across the two.
    dedupe: ['@connectrpc/connect', '@bufbuild/protobuf'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
