#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`); never a TypeScript loader.
import { existsSync } from 'node:fs';
import module from 'node:module';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'nexus: the compiled server is missing (dist/src/cli/main.js).\n' +
      'Build it first: npm install && npm run build   (npm start builds it when it is missing or stale)\n',
  );
  process.exit(1);
}
// V8 keeps the code it compiles for our modules and the dependencies' on disk (Node >= 22.1; in
// NODE_COMPILE_CACHE, else the OS temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns it off): later
// starts skip most of the parsing. Where the directory is not writable it silently does nothing.
module.enableCompileCache?.();
await import(main.href);
