import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The package's root (the folder with package.json, catalog/ and web/dist),
 * found by walking up from this module: the same answer whether it runs as
 * TypeScript from src/ (tests) or compiled from dist/src/ (`npm start`, the
 * `nexus` bin).
 */
export const PACKAGE_ROOT = findPackageRoot(import.meta.dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** A path inside the package. */
export const packagePath = (...parts: string[]): string => path.join(PACKAGE_ROOT, ...parts);
