// Docs as tests for docs/clients/python.md (docs-as-tests.ts): the page's `sh` blocks run as
// written (the wheel built in a copy of the repository, a venv in the user's project), its
// Python blocks become one agent.py, checked with `mypy --strict`, then run against a live
// Nexus while this test plays the user at the OAuth consent.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from '../support/test-app.js';
import { removeTempDirs, tempDir } from './build.js';
import {
  DEMO_KEY,
  accountFor,
  extractBlocks,
  isLang,
  live,
  programs,
  runAsUser,
  runShell,
  startDocsEnv,
  type DocBlock,
  type DocsEnv,
} from './docs-as-tests.js';
import { Agent, REPO_ROOT } from './support.js';

const PAGE = 'docs/clients/python.md';

describe(`${PAGE} as pasted`, () => {
  let env: DocsEnv;
  let repo: string;
  let app: string;
  const blocks = extractBlocks(PAGE);
  const ran: DocBlock[] = [];

  beforeAll(async () => {
    env = await startDocsEnv();
    // The parts of a checkout the wheel is built from.
    repo = tempDir('nexus-py-docs-repo-');
    mkdirSync(path.join(repo, 'gen'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'gen/python'), path.join(repo, 'gen/python'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'clients/python'), path.join(repo, 'clients/python'), {
      recursive: true,
      filter: (src) => !/(__pycache__|\.egg-info|[/\\]build|[/\\]dist)$/.test(src),
    });
    app = tempDir('nexus-py-docs-app-');
    env.live.push(['~/nexus', repo]);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    removeTempDirs();
  });

  it('builds, type-checks and runs the page: a working agent on the first run', async () => {
    const shell = blocks.filter((b) => isLang(b, 'sh'));
    const [program] = programs(blocks, 'python', 'agent.py', (text) => `# ${text}`);
    expect(program, 'the page has Python blocks').toBeDefined();
    const firstPython = program!.blocks[0]!.line;
    const run = async (block: DocBlock) => {
      const cwd = block.attrs.cwd === 'repo' ? repo : app;
      ran.push(block);
      return runShell({ ...block, code: live(block.code, env) }, cwd, env.env);
    };

    // Install: the blocks before the program.
    for (const block of shell.filter((b) => b.line < firstPython)) await run(block);

    writeFileSync(path.join(app, program!.file), live(program!.source, env));
    ran.push(...program!.blocks);

    // After it: the type check as written, then the run, with this test as the user.
    const after = shell.filter((b) => b.line > firstPython);
    const runBlock = after.find((b) => /python agent\.py\s*$/.test(b.code.trim()));
    expect(runBlock, 'a block runs the agent').toBeDefined();
    for (const block of after.filter((b) => b !== runBlock)) await run(block);

    ran.push(runBlock!);
    const agent = new Agent('bash', ['-c', `set -euo pipefail\n${live(runBlock!.code, env)}`], { cwd: app, env: env.env });
    const line = await runAsUser(agent, env, runBlock!);
    expect(line('connected ')).toMatch(/^connected conn_/);
    expect(line('CREDENTIALS_INVALID ')).toBe("CREDENTIALS_INVALID [('credentials.api_key', 'is required')]");
    expect(line('oauth connection ')).toMatch(/^oauth connection conn_\S+ CONNECTION_STATUS_ACTIVE$/);
    expect(line('strategy ')).toBe('strategy STRATEGY_TYPE_API_KEY api_key');
    expect(line('httpx ')).toBe('httpx 200');
    expect(line('requests ')).toBe('requests 200');
    expect(line('proxy ')).toBe('proxy 200');
    expect(line('proxy error ')).toBe('proxy error CONNECTION_NOT_FOUND 404');
    expect(line('async status ')).toBe('async status CONNECTION_STATUS_ACTIVE');
    expect(line('async httpx ')).toBe('async httpx 200');
    expect(line('async wait ')).toBe('async wait CONNECTION_STATUS_ACTIVE');
    expect(line('NotFoundError(')).toMatch(/^NotFoundError\(code=NOT_FOUND, reason='CONNECTION_NOT_FOUND', /);
    expect(agent.lines.filter((l) => l.startsWith('CONNECTION_EVENT_TYPE_SNAPSHOT ')).length).toBeGreaterThanOrEqual(2);

    // The demo API got the key from Nexus (injected, then through the proxy), never Nexus's own key.
    const demo = env.api.received.filter((r) => r.url === '/v1/things');
    expect(demo.length).toBeGreaterThanOrEqual(4);
    for (const r of demo) {
      expect(r.headers['x-demo-key']).toBe(DEMO_KEY);
      expect(JSON.stringify(r.headers)).not.toContain(ADMIN_KEY);
    }
  }, 600_000);

  it('ran every block of the page', () => {
    expect(accountFor(blocks, ran)).toEqual([]);
  });
});
