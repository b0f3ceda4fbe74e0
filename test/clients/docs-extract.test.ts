// The docs-as-tests extractor (docs-as-tests.ts) on its own: what counts as a block, how a
// page becomes programs, and that a block nobody ran is reported.
import { describe, expect, it } from 'vitest';
import { accountFor, parseBlocks, programs, where } from './docs-as-tests.js';

const page = [
  '# Title',
  '```sh cwd=repo',
  'npm pack',
  '```',
  'Text.',
  '```ts',
  "import { a } from 'x';",
  '```',
  '- a list item',
  '  ```typescript file=grpc.ts title="gRPC transport"',
  '  const g = 1;',
  '  ```',
  '````ts',
  'const fence = "```";',
  '````',
  '```',
  'plain',
  '```',
].join('\n');

describe('docs-as-tests extractor', () => {
  const blocks = parseBlocks(page, 'docs/x.md');

  it('finds every fenced block with its language, attributes and line', () => {
    expect(blocks.map((b) => [b.line, b.lang, b.attrs, b.code])).toEqual([
      [2, 'sh', { cwd: 'repo' }, 'npm pack\n'],
      [6, 'ts', {}, "import { a } from 'x';\n"],
      [10, 'typescript', { file: 'grpc.ts', title: 'gRPC transport' }, 'const g = 1;\n'],
      [13, 'ts', {}, 'const fence = "```";\n'],
      [16, '', {}, 'plain\n'],
    ]);
    expect(where(blocks[1]!)).toBe('docs/x.md:6 (ts)');
  });

  it('concatenates a language into one program per file, in page order, marked by line', () => {
    const ts = programs(blocks, 'ts', 'main.ts', (t) => `// ${t}`);
    expect(ts.map((p) => p.file)).toEqual(['main.ts', 'grpc.ts']);
    expect(ts[0]!.source).toBe(`// --- docs/x.md:6 (ts)\nimport { a } from 'x';\n// --- docs/x.md:13 (ts)\nconst fence = "\`\`\`";\n`);
    expect(ts[1]!.blocks.map((b) => b.line)).toEqual([10]);
  });

  it('reports the blocks no runner took', () => {
    const ts = programs(blocks, 'ts', 'main.ts', (t) => `// ${t}`).flatMap((p) => p.blocks);
    expect(accountFor(blocks, ts)).toEqual(['docs/x.md:2 (sh)', 'docs/x.md:16 ()']);
  });

  it('refuses a block that is never closed', () => {
    expect(() => parseBlocks('```ts\nconst a = 1;\n', 'docs/y.md')).toThrow('docs/y.md:1: code block is never closed');
  });
});
