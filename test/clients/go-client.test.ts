// The Go client as a user gets it: the module github.com/nexus-broker/nexus/clients/go
// (the hand-written nexusauth package, clients/go) over the generated module
// github.com/nexus-broker/nexus/gen/go (gen/go). A program in its own module requires
// both by path, with replaces to the local copies, is built with `go build` and run over
// gRPC against a live Nexus.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs, run, tempDir } from './build.js';
import { buildGoApp } from './go-app.js';
import { Agent, REPO_ROOT, runScenario, startEnv, type Env } from './support.js';

describe('Go client module', () => {
  let env: Env;
  let appDir: string;

  beforeAll(async () => {
    appDir = tempDir('nexus-go-app-');
    await buildGoApp(appDir, 'example.com/nexus-agent', 'clients/examples/go/main.go');
    env = await startEnv();
  }, 300_000);
  afterAll(async () => {
    await env?.close();
    removeTempDirs();
  });

  it('builds against the two modules, each at its directory', async () => {
    const modules = ['github.com/nexus-broker/nexus/clients/go', 'github.com/nexus-broker/nexus/gen/go'];
    const out = await run('go', ['list', '-m', '-f', '{{.Path}} {{.Replace.Dir}}', ...modules], { cwd: appDir });
    expect(out.trim().split('\n')).toEqual([
      `github.com/nexus-broker/nexus/clients/go ${path.join(REPO_ROOT, 'clients/go')}`,
      `github.com/nexus-broker/nexus/gen/go ${path.join(REPO_ROOT, 'gen/go')}`,
    ]);
  });

  it('declares the documented minimum Go version in both modules', async () => {
    const documented = /Go (\d+\.\d+)\+/.exec(readFileSync(path.join(REPO_ROOT, 'docs/clients/go.md'), 'utf8'))?.[1];
    expect(documented).toBeDefined();
    for (const dir of ['clients/go', 'gen/go']) {
      const goMod = readFileSync(path.join(REPO_ROOT, dir, 'go.mod'), 'utf8');
      expect(/^go (\d+\.\d+)(\.\d+)?$/m.exec(goMod)?.[1], dir).toBe(documented);
    }
  });

  it('runs an agent over gRPC: connections, tokens, injection for every strategy, typed errors', async () => {
    const agent = new Agent(path.join(appDir, 'agent'), [], { cwd: appDir, env: env.agentEnv });
    await runScenario(env, agent, { notFound: 'ErrNotFound', invalidArgument: 'ErrInvalidArgument', attention: 'ErrAttentionRequired' });
  }, 120_000);
});
