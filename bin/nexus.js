#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`); never a TypeScript loader.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'nexus: the compiled server is missing (dist/src/cli/main.js).\n' +
      'Build it first: npm install && npm run build   (npm start builds it when it is missing or stale)\n',
  );
  process.exit(1);
}
await import(main.href);
