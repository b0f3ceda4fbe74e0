// Docs as tests for docs/clients/typescript.md: every block of the page runs, as pasted, against
// a live Nexus with the README walkthrough's demo providers (docs-as-tests.ts). The `sh` blocks
// build and pack the package in a copy of the repository and install it in a fresh project;
// agent.ts (the page's `ts` blocks in order) is type-checked and run with node while the test
// plays the user at the consent link; grpc.ts and aws.ts run after it.
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthType } from '../../gen/ts/nexus/v1/provider_pb.js';
import { ADMIN_KEY, clients } from '../support/test-app.js';
import { copySource, removeTempDirs, run, tempDir, tscAgent } from './build.js';
import {
  DEMO_KEY,
  accountFor,
  consentWhenAsked,
  extractBlocks,
  isLang,
  live,
  programs,
  runShellBlock,
  shellScript,
  startDocsEnv,
  where,
  type DocBlock,
  type DocsEnv,
  type Program,
} from './docs-as-tests.js';
import { Agent, REPO_ROOT, verifySigV4 } from './support.js';

const PAGE = 'docs/clients/typescript.md';

describe(`${PAGE} runs as pasted`, () => {
  const blocks = extractBlocks(PAGE);
  const ran: DocBlock[] = [];
  let env: DocsEnv;
  let repoDir: string;
  let appDir: string;
  let tsPrograms: Program[];
  const awsCreds = {
    access_key_id: 'AKIADOCSEXAMPLE00001',
    secret_access_key: 'docs-secret-access-key-1234',
    session_token: 'docs-session-token',
    region: 'eu-west-1',
  };
  let awsConnectionId: string;

  beforeAll(async () => {
    env = await startDocsEnv();
    // The parts of the repository the package builds from: clients/ts and the generated gen/ts.
    repoDir = tempDir('nexus-docs-repo-');
    copySource(path.join(REPO_ROOT, 'clients/ts'), path.join(repoDir, 'clients/ts'));
    cpSync(path.join(REPO_ROOT, 'gen/ts'), path.join(repoDir, 'gen/ts'), { recursive: true });
    appDir = tempDir('nexus-docs-app-');
    // The tarball `npm pack` wrote is where the page's "/path/to/" points.
    env.live.push(['/path/to/', `${path.join(repoDir, 'clients/ts')}/`]);

    tsPrograms = programs(blocks, 'ts', 'agent.ts', (t) => `// ${t}`);
    for (const p of tsPrograms) writeFileSync(path.join(appDir, p.file), live(p.source, env));

    // An AWS_SIGV4 connection for aws.ts (the demo providers have none).
    const admin = clients(env.nexus.baseUrl, ADMIN_KEY);
    await admin.providers.createProvider({
      provider: {
        name: 'demo-aws',
        displayName: 'Demo AWS',
        authType: AuthType.AWS_SIGV4,
        enabled: true,
        awsSigv4: { service: 'execute-api', defaultRegion: 'us-east-1' },
      },
    });
    const created = await admin.connections.createConnection({
      workspaceId: 'user-44',
      provider: { case: 'providerName', value: 'demo-aws' },
      returnUrl: 'http://localhost:3000/done',
    });
    awsConnectionId = (await admin.connections.submitCredentials({ state: created.state, credentials: awsCreds })).connection!.id;
  }, 120_000);
  afterAll(async () => {
    await env?.close();
    removeTempDirs();
  });

  it('has the blocks this suite expects', () => {
    expect(blocks.filter((b) => isLang(b, 'sh')).length).toBeGreaterThanOrEqual(5);
    expect(tsPrograms.map((p) => p.file)).toEqual(['agent.ts', 'grpc.ts', 'aws.ts']);
    expect(blocks.filter((b) => b.attrs.role === 'run')).toHaveLength(1);
  });

  it('installs: the sh blocks build, pack and install the package', async () => {
    for (const block of blocks.filter((b) => isLang(b, 'sh') && b.attrs.role !== 'run')) {
      const cwd = block.attrs.cwd === 'repo' ? repoDir : appDir;
      await runShellBlock(blocks, block, cwd, env);
      ran.push(block);
    }
    // What the reader has now: the package and its optional extras in the project.
    for (const dep of ['@nexus-broker/client', '@connectrpc/connect-node', '@smithy/signature-v4', '@aws-crypto/sha256-js']) {
      await run('node', ['-e', `import(${JSON.stringify(dep)})`], { cwd: appDir });
    }
  }, 300_000);

  it('type-checks every program strictly against the installed package', async () => {
    // Each program is its own module (top-level await, its own imports).
    for (const p of tsPrograms) writeFileSync(path.join(appDir, p.file), `${live(p.source, env)}export {};\n`);
    await tscAgent(
      appDir,
      tsPrograms.map((p) => p.file),
      { noEmit: true },
    );
  }, 120_000);

  it('runs agent.ts: connections, consent and wait, tokens, injection, proxy, errors, watch', async () => {
    const runBlock = blocks.find((b) => b.attrs.role === 'run')!;
    const agent = new Agent('bash', ['-c', live(shellScript(blocks, runBlock), env)], { cwd: appDir, env: {} });
    await agent.drive(async () => {
      const redirect = await consentWhenAsked(agent, env);
      expect(new URL(redirect).searchParams.get('status')).toBe('success');
      const keyConnection = await agent.waitFor('connected demo-api-key ');
      expect(await agent.waitFor('connected demo-oauth ')).toMatch(/^conn_\S+ ACTIVE$/);
      expect(await agent.waitFor('token ')).toMatch(/^OAUTH2 oauth2 expires \d{4}-\d\d-\d\dT/);
      expect(await agent.waitFor('nexusFetch ')).toMatch(/^200 /);
      expect(await agent.waitFor('nexusProxyFetch ')).toMatch(/^200 /);
      expect(await agent.waitFor('error ')).toBe('NotFoundError NOT_FOUND CONNECTION_NOT_FOUND');
      expect(JSON.parse(await agent.waitFor('violations '))).toEqual([{ field: 'credentials.api_key', description: 'is required' }]);
      await agent.waitFor('done');
      expect(await agent.exit()).toBe(0);
      const events = agent.lines.filter((l) => l.startsWith('event SNAPSHOT '));
      expect(events.some((l) => l.includes(keyConnection) && l.endsWith('ACTIVE'))).toBe(true);

      // The demo API saw the key injected by the client, then by Nexus's proxy (with the query),
      // and never the Nexus API key.
      const seen = env.api.received;
      const injected = seen.find((r) => r.url === '/v1/things' && r.method === 'POST')!;
      expect(injected.headers['x-demo-key']).toBe(DEMO_KEY);
      expect(injected.body).toBe('{"a":1}');
      const proxied = seen.find((r) => r.url === '/v1/things?page=2')!;
      expect(proxied.headers['x-demo-key']).toBe(DEMO_KEY);
      for (const r of seen) expect(JSON.stringify(r.headers)).not.toContain(ADMIN_KEY);
    });
    ran.push(runBlock, ...tsPrograms.find((p) => p.file === 'agent.ts')!.blocks);
  }, 120_000);

  it('runs grpc.ts (gRPC from Node) and aws.ts (SigV4 from the aws export)', async () => {
    const grpc = await run('node', ['grpc.ts'], { cwd: appDir, env: env.env });
    expect(grpc).toContain('grpc providers demo-api-key,demo-aws,demo-oauth');
    ran.push(...tsPrograms.find((p) => p.file === 'grpc.ts')!.blocks);

    const aws = await run('node', ['aws.ts'], { cwd: appDir, env: { ...env.env, AWS_CONNECTION_ID: awsConnectionId } });
    expect(aws).toContain('aws 200');
    const signed = env.api.received.find((r) => r.url === '/aws/things?a=1')!;
    const problem = verifySigV4({ method: signed.method, url: signed.url, headers: signed.headers } as never, Buffer.from(signed.body), {
      ...awsCreds,
      service: 'execute-api',
    });
    expect(problem).toBeNull();
    ran.push(...tsPrograms.find((p) => p.file === 'aws.ts')!.blocks);
  }, 60_000);

  it('ran every block of the page', () => {
    expect(accountFor(blocks, ran), `blocks nobody ran: ${accountFor(blocks, ran).join(', ')}`).toEqual([]);
    expect(ran.map(where)).toHaveLength(blocks.length);
  });
});
