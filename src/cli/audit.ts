// `nexus audit verify|export`. Each command is a function of the open core, so it runs
// the same in a one-shot process or behind the server's control socket.
import type { Core } from '../core.js';
import { toJsonLine } from '../domain/audit/audit-reader.js';

/**
 * Verifies the hash chain of one project, or of every project that has one.
 * Resolves with one OK line per project; throws (exit 1) naming the first
 * bad seq of every broken chain.
 */
export async function verifyAudit(core: Pick<Core, 'auditReader' | 'audit'>, projectId?: string): Promise<string> {
  // What this process still buffers is part of the chain being checked.
  await core.audit.flush();
  const results = await core.auditReader.verify(projectId);
  if (results.length === 0) return projectId ? `project ${projectId} has no audit events` : 'no audit events';
  const lines = results.map((r) =>
    r.ok
      ? `OK ${r.projectId}: ${r.count} event(s) verified${r.count ? ` (seq ${r.firstSeq} to ${r.lastSeq})` : ''}${r.firstSeq > 1 ? `, anchored after pruning at seq ${r.firstSeq - 1}` : ''}`
      : `BROKEN ${r.projectId}: first bad event at seq ${r.seq}: ${r.problem}`,
  );
  if (results.some((r) => !r.ok)) throw new Error(`audit chain verification failed\n${lines.join('\n')}`);
  return lines.join('\n');
}

export interface ExportOptions {
  projectId: string;
  /** Events at or after this time. */
  since?: Date | undefined;
  /** Events after this seq (the last line of a previous export). */
  cursor?: number | undefined;
}

/** Writes the project's events as JSON lines, oldest first, one page at a time; returns how many. */
export async function exportAudit(core: Pick<Core, 'auditReader' | 'audit'>, options: ExportOptions, out: (lines: string) => void): Promise<number> {
  await core.audit.flush();
  let count = 0;
  let page: string[] = [];
  for await (const row of core.auditReader.walk({ projectId: options.projectId, afterSeq: options.cursor ?? 0, since: options.since })) {
    page.push(toJsonLine(row));
    count += 1;
    if (page.length >= 500) {
      out(page.join('\n'));
      page = [];
    }
  }
  if (page.length > 0) out(page.join('\n'));
  return count;
}

/** `--since`: an ISO 8601 time, or a duration back from now (`90m`, `24h`, `7d`). */
export function parseSince(value: string, now = Date.now()): Date {
  const duration = /^(\d{1,6})([mhd])$/.exec(value);
  if (duration) return new Date(now - Number(duration[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 'm' | 'h' | 'd']);
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime()))
    throw new Error(`--since "${value}" is neither an ISO 8601 time nor a duration like 24h or 7d`);
  return time;
}

export function parseCursor(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new Error(`--cursor "${value}" is not a seq (a whole number, the "seq" of the last exported line)`);
  return Number(value);
}
