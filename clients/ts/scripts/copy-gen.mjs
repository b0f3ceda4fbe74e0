// Copies the generated TypeScript (../../gen/ts, produced by `npm run generate` at the repo
// root) into src/gen, where tsc compiles it with the hand-written code. The generated files
// are copied byte for byte; src/gen is not committed.
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const from = process.env.NEXUS_GEN_TS ?? path.resolve(here, '../../../gen/ts');
const to = path.resolve(here, '../src/gen');
if (!existsSync(path.join(from, 'nexus/v1/token_pb.ts'))) {
  console.error(`copy-gen: no generated code at ${from} (run 'npm run generate' at the repo root)`);
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
console.error(`copy-gen: ${from} -> ${to}`);
