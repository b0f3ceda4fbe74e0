import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering rules of docs/architecture.md, checked on src/'s own imports:
// no folder-level import cycle (each file's folder is a node), transport
// never imports storage, and the domain reaches storage only through its
// ports (it imports no storage file at all).

const ROOT = path.resolve(import.meta.dirname, '../../..');
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative import of src/ as [importing file, imported file], paths relative to the repository. */
function imports(): [string, string][] {
  const edges: [string, string][] = [];
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, '.ts');
      edges.push([path.relative(ROOT, file), path.relative(ROOT, target)]);
    }
  }
  return edges.filter(([, to]) => to.startsWith('src/'));
}

/** Strongly connected components of more than one node (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import graph of src/', () => {
  const edges = imports();

  it('reads the imports (a broken pattern would make every rule pass)', () => {
    expect(edges.length).toBeGreaterThan(500);
  });

  it('has no folder-level import cycle', () => {
    const graph = new Map<string, Set<string>>();
    const why = new Map<string, string>();
    for (const [from, to] of edges) {
      const [a, b] = [path.dirname(from), path.dirname(to)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
      why.set(`${a} -> ${b}`, `${from} -> ${to}`);
    }
    const found = cycles(graph).map((group) => ({
      folders: group,
      imports: [...why].filter(([k]) => group.some((a) => group.some((b) => k === `${a} -> ${b}`))).map(([, v]) => v),
    }));
    expect(found).toEqual([]);
  });

  it('transport never imports storage; the domain imports no storage file', () => {
    const crossing = edges.filter(([from, to]) => (from.startsWith('src/transport/') || from.startsWith('src/domain/')) && to.startsWith('src/storage/'));
    expect(crossing).toEqual([]);
  });
});
