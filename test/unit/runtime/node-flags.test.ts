import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** The Node flags of bin/nexus.js's shebang: the shipped default. */
function shebangFlags(): string[] {
  const first = read('bin/nexus.js').split('\n')[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?: --[a-z-]+=\S+)*)$/.exec(first);
  expect(m, first).not.toBeNull();
  return m![1]!.trim().split(' ');
}

describe('the Node flags the server ships with', () => {
  it('are the same in the bin, npm start, npm run nexus and the image', () => {
    const flags = shebangFlags();
    expect(flags).toContain('--max-semi-space-size=2');
    expect(flags).toContain('--heap-growing-percent=30');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe(`node ${flags.join(' ')} bin/nexus.js start`);
    expect(scripts.nexus).toBe(`node ${flags.join(' ')} bin/nexus.js`);
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(read('Containerfile'))![1]!;
    expect(JSON.parse(entrypoint)).toEqual(['/usr/local/bin/node', ...flags, '/app/bin/nexus.js']);
  });

  it('are accepted by this Node (a bad flag stops node at once)', async () => {
    // Node itself, not the bin: the bin needs dist/, and the unit tier runs without a build
    // (the e2e and artifact tiers run the built bin with these flags).
    const { stdout } = await promisify(execFile)(process.execPath, [...shebangFlags(), '-e', 'process.stdout.write("ok")']);
    expect(stdout).toBe('ok');
  });
});
