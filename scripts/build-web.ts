// Builds the Manage Connections web app (web/) into web/dist, which the server serves
// under /manage/. `npm run build:web` always builds; `--if-needed` (npm start's prestart,
// the test global setup) builds only when web/dist is missing or older than its sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEB = path.join(ROOT, 'web');
const OUT_INDEX = path.join(WEB, 'dist', 'index.html');
/** What the bundle is made from: the app, its page and config, and the generated client code. */
const SOURCES = [path.join(WEB, 'src'), path.join(WEB, 'index.html'), path.join(WEB, 'vite.config.ts'), path.join(ROOT, 'gen', 'ts')];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(p).reduce((max, name) => Math.max(max, newestMtime(path.join(p, name))), st.mtimeMs);
}

export function webBuildIsCurrent(): boolean {
  if (!existsSync(OUT_INDEX)) return false;
  const built = statSync(OUT_INDEX).mtimeMs;
  return SOURCES.every((s) => newestMtime(s) <= built);
}

/** Builds web/dist; with `ifNeeded`, only when it is missing or stale. Returns whether it built. */
export async function buildWebApp(options: { ifNeeded?: boolean } = {}): Promise<boolean> {
  if (options.ifNeeded && webBuildIsCurrent()) return false;
  const { build } = await import('vite');
  await build({ configFile: path.join(WEB, 'vite.config.ts'), logLevel: 'warn' });
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifNeeded = process.argv.includes('--if-needed');
  buildWebApp({ ifNeeded }).then(
    (built) => console.log(built ? `web app built into ${path.relative(process.cwd(), path.dirname(OUT_INDEX)) || '.'}` : 'web app is up to date'),
    (err: unknown) => {
      const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
      if (ifNeeded && missing) {
        // An install without dev dependencies has no bundler: start anyway; /manage/ says it is not built.
        console.warn('web app not built: vite is not installed (install dev dependencies, then npm run build:web)');
        return;
      }
      console.error(err);
      process.exitCode = 1;
    },
  );
}
