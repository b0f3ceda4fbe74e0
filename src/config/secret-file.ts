import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` with `content` so that a crash or a full disk at any
 * moment leaves either the old file or the new one, never a truncated mix:
 * the content goes to a new file in the same directory (created exclusively,
 * mode 0600 from the first byte), is flushed to disk, and is renamed over
 * the old one; then the directory entry is flushed. Writing in place (open
 * with truncation, then write) could leave an empty key ring, and with it
 * every sealed secret unreadable.
 */
export function writeSecretFile(file: string, content: string): void {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  // 'wx': O_CREAT | O_EXCL, so the name is never an existing file or a planted link.
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  syncDirectory(dir);
}

/** Makes a rename durable; some platforms cannot open a directory for it, and then the rename is as durable as the OS makes it. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows: directories cannot be fsynced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
