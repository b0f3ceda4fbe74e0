import { ResumeCursorInvalidError } from '../shared/errors.js';
import type { EventMark } from './connection-events.js';

/**
 * A resume cursor: the id of the last event the client has seen (everything
 * in its project up to it), and that event's commit time, which says
 * whether the events after it may have been pruned. Opaque to clients.
 */
export function encodeCursor(mark: EventMark): string {
  return Buffer.from(`1:${mark.id}:${mark.at.getTime()}`).toString('base64url');
}

export function decodeCursor(cursor: string): EventMark {
  if (cursor.length > 100 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new ResumeCursorInvalidError();
  const match = /^1:(\d{1,15}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new ResumeCursorInvalidError();
  return { id: Number(match[1]), at: new Date(Number(match[2])) };
}
