// The generated TypeScript (../../gen/ts, produced by `npm run generate` at the repo root) is
// src/gen, where tsc compiles it with the hand-written code. In the repository src/gen is a
// committed symbolic link to ../../../gen/ts (so the web app can import this package's source,
// see web/vite.config.ts); a copy of the package elsewhere (a release build, the clients tests)
// gets the generated files copied in byte for byte from NEXUS_GEN_TS.
import { cpSync, existsSync, lstatSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const from = process.env.NEXUS_GEN_TS ?? path.resolve(here, '../../../gen/ts');
const to = path.resolve(here, '../src/gen');
if (!existsSync(path.join(from, 'nexus/v1/token_pb.ts'))) {
  console.error(`copy-gen: no generated code at ${from} (run 'npm run generate' at the repo root)`);
  process.exit(1);
}
if (lstatSync(to, { throwIfNoEntry: false })?.isSymbolicLink() && existsSync(to) && realpathSync(to) === realpathSync(from)) {
  console.error(`copy-gen: ${to} is a link to ${from}; nothing to copy`);
  process.exit(0);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
console.error(`copy-gen: ${from} -> ${to}`);
