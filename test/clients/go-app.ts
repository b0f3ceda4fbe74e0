// A Go program as a user builds it: its own module requiring github.com/nexus-broker/nexus/
// clients/go and gen/go, replaced by this repository's directories (as docs/clients/go.md
// shows for a checkout), `go mod tidy`, then `go build -o agent`.
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './build.js';
import { REPO_ROOT } from './support.js';

/** Builds `mainFile` (relative to the repository) in `dir` as module `module`; returns the binary's path. */
export async function buildGoApp(dir: string, module: string, mainFile: string): Promise<string> {
  writeFileSync(
    path.join(dir, 'go.mod'),
    [
      `module ${module}`,
      '',
      'go 1.26.0',
      '',
      'require (',
      '\tgithub.com/nexus-broker/nexus/clients/go v0.1.0',
      '\tgithub.com/nexus-broker/nexus/gen/go v0.1.0',
      ')',
      '',
      `replace github.com/nexus-broker/nexus/clients/go => ${path.join(REPO_ROOT, 'clients/go')}`,
      '',
      `replace github.com/nexus-broker/nexus/gen/go => ${path.join(REPO_ROOT, 'gen/go')}`,
      '',
    ].join('\n'),
  );
  copyFileSync(path.join(REPO_ROOT, mainFile), path.join(dir, 'main.go'));
  await run('go', ['mod', 'tidy'], { cwd: dir });
  await run('go', ['build', '-o', 'agent', '.'], { cwd: dir });
  return path.join(dir, 'agent');
}
