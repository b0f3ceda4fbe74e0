// nexus-broker (clients/python), as a user gets it: a wheel built with `pip wheel`, installed
// into a fresh virtual environment, and used by an agent program over gRPC against a live Nexus.
import { copyFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copySource, removeTempDirs, run, tempDir } from './build.js';
import { Agent, REPO_ROOT, runScenario, startEnv, type Env } from './support.js';

const PYTHON = process.env.PYTHON ?? 'python3';

describe('Python client package', () => {
  let env: Env;
  let appDir: string;
  let python: string;

  beforeAll(async () => {
    // Build the wheel from a copy of the source, as a release would.
    const src = tempDir('nexus-py-src-');
    copySource(path.join(REPO_ROOT, 'clients/python'), src);
    const wheels = tempDir('nexus-py-wheel-');
    await run(PYTHON, ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '-w', wheels, src], {
      cwd: src,
      env: { NEXUS_GEN_PYTHON: path.join(REPO_ROOT, 'gen/python') },
    });
    const wheel = path.join(wheels, readdirSync(wheels).find((f) => f.endsWith('.whl'))!);

    // A user's environment: a fresh venv with the wheel (and its dependencies from PyPI).
    appDir = tempDir('nexus-py-app-');
    await run(PYTHON, ['-m', 'venv', path.join(appDir, 'venv')], { cwd: appDir });
    python = path.join(appDir, 'venv/bin/python');
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', `nexus-broker[aws,requests] @ file://${wheel}`], { cwd: appDir });
    copyFileSync(path.join(REPO_ROOT, 'clients/examples/python/agent.py'), path.join(appDir, 'agent.py'));

    env = await startEnv();
  }, 300_000);
  afterAll(async () => {
    await env?.close();
    removeTempDirs();
  });

  it('installs a typed package with the generated stubs', async () => {
    const out = await run(
      python,
      [
        '-c',
        'import importlib.resources as r, nexus_broker, nexus.v1.token_pb2 as t; print(nexus_broker.__version__, r.files("nexus_broker").joinpath("py.typed").is_file(), r.files("nexus.v1").joinpath("token_pb2.pyi").is_file(), t.STRATEGY_TYPE_AWS_SIGV4)',
      ],
      { cwd: appDir },
    );
    expect(out.trim()).toBe('0.1.0 True True 4');
  });

  it('runs an agent over gRPC: connections, tokens, injection for every strategy, typed errors', async () => {
    const agent = new Agent(python, ['agent.py'], { cwd: appDir, env: { ...env.agentEnv, NEXUS_ADDR: env.nexus.baseUrl.replace(/^http:\/\//, '') } });
    await runScenario(env, agent, { notFound: 'NotFoundError', invalidArgument: 'InvalidArgumentError', attention: 'AttentionRequiredError' });
  }, 120_000);
});
