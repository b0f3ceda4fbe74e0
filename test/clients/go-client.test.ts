// The Go module github.com/nexus-broker/nexus/gen/go (generated connect-go clients plus the
// hand-written nexusauth package), as a user gets it: a program in its own module that
// requires it by path, with a replace to the local copy, built with `go build` and run
// over gRPC against a live Nexus.
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, run, tempDir } from './build.js';
import { Agent, REPO_ROOT, runScenario, startEnv, type Env } from './support.js';

describe('Go client module', () => {
  let env: Env;
  let appDir: string;

  beforeAll(async () => {
    appDir = tempDir('nexus-go-app-');
    writeFileSync(
      path.join(appDir, 'go.mod'),
      [
        'module example.com/nexus-agent',
        '',
        'go 1.26.0',
        '',
        'require github.com/nexus-broker/nexus/gen/go v0.1.0',
        '',
        `replace github.com/nexus-broker/nexus/gen/go => ${path.join(REPO_ROOT, 'gen/go')}`,
        '',
      ].join('\n'),
    );
    copyFileSync(path.join(REPO_ROOT, 'clients/examples/go/main.go'), path.join(appDir, 'main.go'));
    await run('go', ['mod', 'tidy'], { cwd: appDir });
    await run('go', ['build', '-o', 'agent', '.'], { cwd: appDir });
    env = await startEnv();
  }, 300_000);
  afterAll(async () => {
    await env?.close();
    removeTempDirs();
  });

  it('builds against the module and reports its version', async () => {
    const out = await run('go', ['list', '-m', '-f', '{{.Path}} {{.Replace.Dir}}', 'github.com/nexus-broker/nexus/gen/go'], { cwd: appDir });
    expect(out.trim()).toBe(`github.com/nexus-broker/nexus/gen/go ${path.join(REPO_ROOT, 'gen/go')}`);
  });

  it('runs an agent over gRPC: connections, tokens, injection for every strategy, typed errors', async () => {
    const agent = new Agent(path.join(appDir, 'agent'), [], { cwd: appDir, env: env.agentEnv });
    await runScenario(env, agent, { notFound: 'ErrNotFound', invalidArgument: 'ErrInvalidArgument', attention: 'ErrAttentionRequired' });
  }, 120_000);
});
