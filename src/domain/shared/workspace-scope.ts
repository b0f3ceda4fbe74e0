import { echo, WorkspaceForbiddenError } from './errors.js';
import type { Principal } from './principal.js';

export { DEFAULT_PROJECT_ID } from '../model/project.js';

/**
 * Confines a signed-in user's token to its own workspace. API keys (no
 * `user`) see the whole project and pass through unchanged.
 */

/** The workspace a request names, defaulted to the user's own; another one is refused. */
export function workspaceFor(caller: Principal, requested: string): string {
  if (!caller.user) return requested;
  if (requested && requested !== caller.user.workspaceId) {
    throw new WorkspaceForbiddenError(`workspace "${echo(requested)}" is not yours`);
  }
  return caller.user.workspaceId;
}

/**
 * A row a user reaches by id must be in the user's workspace. A missing row
 * gets the same answer as another workspace's or project's, so a user token
 * never learns whether someone else's connection exists.
 */
export function requireOwnRow<T extends { workspaceId: string }>(caller: Principal, row: T | null, what: string): T | null {
  if (!caller.user) return row;
  if (!row || row.workspaceId !== caller.user.workspaceId) throw new WorkspaceForbiddenError(`${what} is not in your workspace`);
  return row;
}

/** A user token names its project implicitly; naming another one is refused. */
export function projectFor(caller: Principal | undefined, requested: string): string | undefined {
  if (!caller?.user) return undefined;
  if (requested && requested !== caller.projectId) throw new WorkspaceForbiddenError(`project "${echo(requested)}" is not yours`);
  return caller.projectId;
}
