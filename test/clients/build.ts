// Builds and installs the client packages the way a user would, in temporary directories.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const pexec = promisify(execFile);

/**
 * The environment for tools run on a user's behalf: without the npm_* variables that `npm test`
 * sets (npm_config_local_prefix and friends would point a nested npm at this repository).
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  return { ...env, ...extra };
}

export async function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<string> {
  try {
    const { stdout } = await pexec(cmd, args, { cwd: opts.cwd, env: userEnv(opts.env), maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every directory tempDir made in this test file. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Copies a source tree, leaving out build output and installed dependencies. */
export function copySource(from: string, to: string): void {
  const skip = new Set(['node_modules', 'dist', 'build', '.venv', '__pycache__']);
  cpSync(from, to, {
    recursive: true,
    filter: (src) => !skip.has(path.basename(src)) && !src.endsWith('.tgz') && !src.endsWith('.egg-info') && !src.includes(`${path.sep}src${path.sep}gen`),
  });
}

/**
 * Type-checks (and, unless `noEmit`, compiles next to themselves) a user's TypeScript `files`
 * in `appDir` against its installed packages, strictly, with this repository's TypeScript and
 * @types/node.
 */
export async function tscAgent(appDir: string, files: string[], options: { noEmit?: boolean } = {}): Promise<void> {
  const repoRoot = new URL('../../', import.meta.url).pathname;
  writeFileSync(
    path.join(appDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: options.noEmit ?? false,
        types: ['node'],
        typeRoots: [path.join(repoRoot, 'node_modules/@types')],
      },
      files,
    }),
  );
  await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', appDir], { cwd: appDir });
}
