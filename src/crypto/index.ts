// Public API of the crypto module. Import from here, not from the files.

export { KEY_BYTES, KeyRing, KeyRingError, weakKeyReason } from './key-ring.js';
export type { RingKey } from './key-ring.js';
export {
  DecryptionError,
  keyIdOf,
  needsReseal,
  open,
  openJson,
  reseal,
  seal,
  sealJson,
} from './sealed-box.js';
export type { DecryptionFailure } from './sealed-box.js';
export {
  STATE_AUDIENCE,
  STATE_ISSUER,
  STATE_MAX_LENGTH,
  STATE_TOKEN_TYPE,
  StateExpiredError,
  StateInvalidError,
  signState,
  verifyState,
} from './state-token.js';
export type { StateClaims, StateInput, StateInvalidReason, StateKind } from './state-token.js';
export {
  API_KEY_PREFIX,
  displayPrefixOf,
  generateApiKey,
  hashSecret,
  pkceChallengeS256,
  pkceVerifier,
  randomToken,
  secretMatches,
} from './secret-hash.js';
export { ID_PREFIXES, idTimestamp, isId, newId } from './ids.js';
export type { IdPrefix } from './ids.js';
