// The Python client as a user gets it, for the Python suites (python-client, python-docs):
// a wheel built with `pip wheel` from a copy of clients/python, installed with its extras
// into a fresh virtual environment (dependencies from PyPI).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { copySource, run, tempDir } from './build.js';
import { REPO_ROOT } from './support.js';

export const PYTHON = process.env.PYTHON ?? 'python3';

export interface PythonApp {
  /** The user's project directory (the venv is `venv/` in it). */
  dir: string;
  /** The venv's python. */
  python: string;
  /** The wheel that was installed. */
  wheel: string;
  /** The copy of clients/python the wheel was built from. */
  src: string;
}

/** Builds the wheel and installs `nexus-broker[extras]` (plus `more` packages) into a new venv. */
export async function pythonApp(extras: string[], more: string[] = []): Promise<PythonApp> {
  const src = tempDir('nexus-py-src-');
  copySource(path.join(REPO_ROOT, 'clients/python'), src);
  const wheels = tempDir('nexus-py-wheel-');
  await run(PYTHON, ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '-w', wheels, src], {
    cwd: src,
    env: { NEXUS_GEN_PYTHON: path.join(REPO_ROOT, 'gen/python') },
  });
  const wheel = path.join(wheels, readdirSync(wheels).find((f) => f.endsWith('.whl'))!);
  const dir = tempDir('nexus-py-app-');
  await run(PYTHON, ['-m', 'venv', path.join(dir, 'venv')], { cwd: dir });
  const python = path.join(dir, 'venv/bin/python');
  const spec = `nexus-broker${extras.length ? `[${extras.join(',')}]` : ''} @ file://${wheel}`;
  await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', spec, ...more], { cwd: dir });
  return { dir, python, wheel, src };
}

/** The mypy the suites check with (the docs name the same: `pip install mypy`). */
export const MYPY = 'mypy>=1.10';
