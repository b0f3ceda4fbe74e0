import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/** The data directory is unsafe to use (others can write to it, or it belongs to someone else). */
// Not a NexusError: startup/CLI only (checked before the database opens).
export class UnsafeDataDirError extends Error {}

const GROUP_OR_OTHER = 0o077;
const GROUP_OR_OTHER_WRITE = 0o022;

/**
 * Makes the data directory private to the user running Nexus, or refuses it.
 *
 * - Created 0700 when missing.
 * - Refused when it, or any directory inside it, is not owned by this user or
 *   is writable by group or others: someone else could have replaced a file
 *   (the key ring, the database) and tightening now would hide that. The
 *   message gives the exact command to run after checking.
 * - Otherwise every entry is tightened (directories 0700, files 0600). Data
 *   directories made by older versions (0755 directories holding 0666 files,
 *   PGlite's default) are fixed this way on their first start.
 *
 * Returns how many entries were tightened.
 */
export function secureDataDir(dataDir: string): number {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  if (uid === undefined) return 0; // no POSIX owners (Windows)
  const fix = `chmod -R go-rwx ${shellQuote(dataDir)}`;
  const problems: string[] = [];
  const tighten: { file: string; mode: number }[] = [];
  const visit = (file: string, stats: Stats) => {
    if (stats.uid !== uid) {
      problems.push(`${file} is owned by uid ${stats.uid}, not by the user running Nexus (uid ${uid})`);
      return;
    }
    const perms = stats.mode & 0o7777;
    if (stats.isDirectory()) {
      if (perms & GROUP_OR_OTHER_WRITE) problems.push(`${file} is writable by other users (mode ${octal(perms)})`);
      else if (perms & GROUP_OR_OTHER) tighten.push({ file, mode: 0o700 });
      for (const name of readdirSync(file)) {
        const child = path.join(file, name);
        const childStats = lstatSync(child);
        if (childStats.isSymbolicLink()) continue; // never followed, never chmod'ed
        visit(child, childStats);
      }
    } else if (stats.isFile() && perms & GROUP_OR_OTHER) {
      tighten.push({ file, mode: 0o600 });
    }
    // Sockets (the control socket) are guarded by their 0700 directory.
  };
  visit(dataDir, statSync(dataDir));
  if (problems.length > 0) {
    const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
    throw new UnsafeDataDirError(
      `refusing the data directory ${dataDir}: ${shown}. Another user may have changed its files; check them, then ` +
        (problems.some((p) => p.includes('owned by uid')) ? `give it to the user running Nexus (chown -R) and run: ${fix}` : `run: ${fix}`),
    );
  }
  for (const { file, mode } of tighten) chmodSync(file, mode);
  return tighten.length;
}

/** Tightens what PGlite created while running (it makes every file 0666); the 0700 directory guards them meanwhile. */
export function tightenQuietly(dir: string): void {
  try {
    secureDataDir(dir);
  } catch {
    // best effort on the way out; the next start checks again and refuses if needed
  }
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
