import { InvalidFieldError } from '../shared/errors.js';

/**
 * The shape check every RPC that takes a connection id makes before looking
 * it up: present, and short enough to be one of ours. (Unknown ids are
 * NOT_FOUND, from the lookup.)
 */
export function checkConnectionId(field: string, id: string): void {
  if (!id) throw new InvalidFieldError(field, 'is required');
  if (id.length > 64) throw new InvalidFieldError(field, 'is not a connection id');
}
