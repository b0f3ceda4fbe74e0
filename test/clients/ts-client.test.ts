// @nexus-broker/client (clients/ts), as a user gets it: built and packed with `npm pack`,
// installed from the tarball into a fresh directory, and used by an agent program over
// Connect (fetch) against a live Nexus.
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copySource, removeTempDirs, run, tempDir, tscAgent } from './build.js';
import { Agent, REPO_ROOT, runScenario, startEnv, type Env } from './support.js';

describe('TypeScript client package', () => {
  let env: Env;
  let appDir: string;

  beforeAll(async () => {
    // Build from source and pack, as a release would.
    const src = tempDir('nexus-ts-src-');
    copySource(path.join(REPO_ROOT, 'clients/ts'), src);
    await run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: src });
    const packDir = tempDir('nexus-ts-pack-');
    await run('npm', ['pack', '--pack-destination', packDir], { cwd: src, env: { NEXUS_GEN_TS: path.join(REPO_ROOT, 'gen/ts') } });
    const tarball = path.join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);

    // A user's project: install the tarball, type-check and compile the agent against it.
    appDir = tempDir('nexus-ts-app-');
    writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'ts-agent', private: true, type: 'module' }));
    // AWS SigV4 signing (@nexus-broker/client/aws) needs the optional peer dependencies.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@smithy/signature-v4', '@aws-crypto/sha256-js'], { cwd: appDir });
    copyFileSync(path.join(REPO_ROOT, 'clients/examples/ts/agent.ts'), path.join(appDir, 'agent.ts'));
    await tscAgent(appDir, ['agent.ts']);

    env = await startEnv();
  }, 300_000);
  afterAll(async () => {
    await env?.close();
    removeTempDirs();
  });

  it('exposes ESM entry points with types, for Node and browsers', async () => {
    const pkg = (await import(path.join(appDir, 'node_modules/@nexus-broker/client/package.json'), { with: { type: 'json' } })).default;
    expect(pkg.type).toBe('module');
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.exports['./aws']).toEqual({ types: './dist/aws.d.ts', import: './dist/aws.js' });
    expect(pkg.dependencies).toHaveProperty('@connectrpc/connect-web');
    expect(pkg.dependencies).not.toHaveProperty('@connectrpc/connect-node');
    // AWS signing is an optional peer: browser bundles and non-AWS users do not get it.
    for (const aws of ['@smithy/signature-v4', '@aws-crypto/sha256-js']) {
      expect(pkg.dependencies).not.toHaveProperty(aws);
      expect(pkg.peerDependenciesMeta[aws]).toEqual({ optional: true });
    }
    const core = await run('grep', ['-rlE', '@smithy|@aws-crypto', 'dist', '--include=*.js', '--exclude=aws.js'], {
      cwd: path.join(appDir, 'node_modules/@nexus-broker/client'),
    }).catch(() => '');
    expect(core.trim()).toBe('');
    // The README's links work inside the tarball: absolute, no path into the repository.
    const readme = readFileSync(path.join(appDir, 'node_modules/@nexus-broker/client/README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link).toMatch(/^https:\/\//);
    // The published code imports nothing from Node's standard library.
    const out = await run('grep', ['-rlE', 'from [\'"](node:|fs|path|crypto|http)', 'dist'], {
      cwd: path.join(appDir, 'node_modules/@nexus-broker/client'),
    }).catch(() => '');
    expect(out.trim()).toBe('');
  });

  it('runs an agent over Connect: connections, tokens, injection for every strategy, typed errors', async () => {
    const agent = new Agent(process.execPath, ['agent.js'], { cwd: appDir, env: env.agentEnv });
    await runScenario(env, agent, { notFound: 'NotFoundError', invalidArgument: 'InvalidArgumentError', attention: 'AttentionRequiredError' });
  }, 120_000);
});
