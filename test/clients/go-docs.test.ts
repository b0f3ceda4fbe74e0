// Docs as tests for docs/clients/go.md (docs-as-tests.ts): the page's Go blocks become one
// main.go; its `sh` blocks run as written in the user's empty directory: `go mod init`, then
// `go get github.com/nexus-broker/nexus/clients/go@latest` served by a file-system module
// proxy that holds clients/go and gen/go as a release publishes them (scripts/go-release,
// golang.org/x/mod/zip), in a fresh module cache; then `go mod tidy`, `go vet` and
// `go run .` against a live Nexus while this test consents as the user.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY } from '../support/test-app.js';
import { removeTempDirs, run, tempDir } from './build.js';
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

const PAGE = 'docs/clients/go.md';

describe(`${PAGE} as pasted`, () => {
  let env: DocsEnv;
  let app: string;
  let goEnv: Record<string, string>;
  const blocks = extractBlocks(PAGE);
  const ran: DocBlock[] = [];

  beforeAll(async () => {
    const work = tempDir('nexus-go-docs-');
    const proxy = path.join(work, 'proxy');
    await run('go', ['run', '.', '-repo', REPO_ROOT, '-proxy', proxy], { cwd: path.join(REPO_ROOT, 'scripts/go-release') });
    const goenv = (name: string) => execFileSync('go', ['env', name], { encoding: 'utf8' }).trim();
    goEnv = {
      // Ours from the file proxy; third-party modules from this machine's module cache, else the usual proxy.
      GOPROXY: `file://${proxy},file://${goenv('GOMODCACHE')}/cache/download,${goenv('GOPROXY')}`,
      GONOSUMDB: 'github.com/nexus-broker/nexus',
      GOFLAGS: '-mod=mod',
      GOTOOLCHAIN: 'local',
      // A fresh module cache: the unreleased v0.1.0 must not land in the machine's.
      GOMODCACHE: path.join(work, 'modcache'),
    };
    app = path.join(work, 'app');
    await run('mkdir', [app], { cwd: work });
    env = await startDocsEnv();
  }, 300_000);
  afterAll(async () => {
    await env?.close();
    if (goEnv) await run('chmod', ['-R', 'u+w', goEnv.GOMODCACHE!], { cwd: REPO_ROOT }).catch(() => {});
    removeTempDirs();
  });

  it('fetches, builds and runs the page: a working agent on the first run', async () => {
    const shell = blocks.filter((b) => isLang(b, 'sh'));
    const [program] = programs(blocks, 'go', 'main.go', (text) => `// ${text}`);
    expect(program, 'the page has Go blocks').toBeDefined();
    const firstGo = program!.blocks[0]!.line;
    const runEnv = { ...env.env, ...goEnv };
    const runBlock = async (block: DocBlock) => {
      ran.push(block);
      return runShell({ ...block, code: live(block.code, env) }, app, runEnv);
    };

    for (const block of shell.filter((b) => b.line < firstGo)) await runBlock(block);
    writeFileSync(path.join(app, program!.file), live(program!.source, env));
    ran.push(...program!.blocks);

    const after = shell.filter((b) => b.line > firstGo);
    expect(after.length, 'a block runs the agent').toBe(1);
    const last = after[0]!;
    const lines = live(last.code, env).trim().split('\n');
    expect(lines.at(-1)).toBe('go run .');
    // Everything before `go run .` (tidy, vet) as written; then the agent, with this test as the user.
    await runShell({ ...last, code: `${lines.slice(0, -1).join('\n')}\n` }, app, runEnv);
    await run('go', ['build', '-o', 'agent', '.'], { cwd: app, env: runEnv });
    ran.push(last);
    const line = await runAsUser(new Agent(path.join(app, 'agent'), [], { cwd: app, env: runEnv }), env, last);

    // The module came from the proxy at the release version, not from a replace.
    const resolved = await run(
      'go',
      ['list', '-m', '-f', '{{.Path}} {{.Version}} {{.Replace}}', 'github.com/nexus-broker/nexus/clients/go', 'github.com/nexus-broker/nexus/gen/go'],
      {
        cwd: app,
        env: runEnv,
      },
    );
    const version = `v${(await run('cat', ['clients/VERSION'], { cwd: REPO_ROOT })).trim()}`;
    expect(resolved.trim().split('\n')).toEqual([
      `github.com/nexus-broker/nexus/clients/go ${version} <nil>`,
      `github.com/nexus-broker/nexus/gen/go ${version} <nil>`,
    ]);

    expect(line('connected ')).toMatch(/^connected conn_/);
    expect(line('CREDENTIALS_INVALID ')).toBe('CREDENTIALS_INVALID [{credentials.api_key is required}]');
    expect(line('oauth connection ')).toMatch(/^oauth connection conn_\S+ CONNECTION_STATUS_ACTIVE$/);
    expect(line('strategy ')).toBe('strategy STRATEGY_TYPE_API_KEY true');
    expect(line('injected ')).toBe('injected 200');
    expect(line('oauth2 ')).toBe('oauth2 200');
    expect(line('proxy ')).toBe('proxy 200');
    expect(line('proxy upload ')).toBe('proxy upload 200 true');
    expect(line('proxy error ')).toBe('proxy error CONNECTION_NOT_FOUND 404');
    expect(line('nexus said ')).toBe('nexus said not_found (CONNECTION_NOT_FOUND)');
    expect(line('stream error ')).toBe('stream error CONNECTION_NOT_FOUND');
    expect(line('CONNECTION_EVENT_TYPE_SNAPSHOT ')).toMatch(/^CONNECTION_EVENT_TYPE_SNAPSHOT conn_\S+ CONNECTION_STATUS_ACTIVE$/);

    // The demo API got the key from Nexus (injected, then through the proxy), never Nexus's own key;
    // the upload of unknown length (an io.Pipe, sent chunked) reached it whole, through the proxy.
    const demo = env.api.received.filter((r) => r.url === '/v1/things');
    const keyed = demo.filter((r) => r.headers['x-demo-key'] !== undefined);
    expect(keyed.length).toBe(3);
    for (const r of keyed) expect(r.headers['x-demo-key']).toBe(DEMO_KEY);
    for (const r of demo) expect(JSON.stringify(r.headers)).not.toContain(ADMIN_KEY);
    const upload = demo.find((r) => r.body.startsWith('chunk 0'));
    expect(upload?.body).toBe('chunk 0\nchunk 1\nchunk 2\n');
    expect(demo.filter((r) => /^Bearer /.test(String(r.headers.authorization ?? ''))).length).toBe(1); // the oauth2 adapter
  }, 600_000);

  it('ran every block of the page', () => {
    expect(accountFor(blocks, ran)).toEqual([]);
  });
});
