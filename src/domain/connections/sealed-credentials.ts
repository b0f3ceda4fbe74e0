import { DecryptionError, openJson, sealJson, type KeyRing } from '../../crypto/index.js';
import type { ConnectionRow } from '../model/connection.js';
import { CredentialUnreadableError } from '../shared/errors.js';
import { credentialsAad } from '../keys/sealed-secrets.js';

/**
 * A connection's credentials are sealed with associated data naming the
 * row, so a value copied to another connection does not open.
 */
export function sealCredentials(ring: KeyRing, connectionId: string, value: unknown): string {
  return sealJson(ring, value, credentialsAad(connectionId));
}

/** Opens the row's credentials; a value that does not open is reported, never guessed at. */
export function openCredentials<T>(ring: KeyRing, row: Pick<ConnectionRow, 'id' | 'credentialsSealed'>): T {
  try {
    return openJson<T>(ring, row.credentialsSealed!, credentialsAad(row.id));
  } catch (err) {
    if (err instanceof DecryptionError) throw new CredentialUnreadableError(row.id);
    throw err;
  }
}
