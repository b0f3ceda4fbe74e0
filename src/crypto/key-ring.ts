// A ring of AES-256 keys, each with an id. The first key is the primary: it
// encrypts (and signs state tokens); every key in the ring can decrypt/verify.
// Keeping retired keys in the ring is what lets keys rotate without downtime:
// values sealed under the old key keep opening until they are resealed.
//
// Key material never leaves this class except through `primary`, `get()` and
// `toSpec()`. Errors and inspection output name ids and positions only, so a
// misconfigured NEXUS_ENCRYPTION_KEYS cannot leak into logs.

import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

export const KEY_BYTES = 32;

const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
// Standard or URL-safe alphabet, optional padding. Buffer.from(_, 'base64')
// silently skips junk characters, so we check the shape ourselves first.
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;

/**
 * Why a key looks chosen rather than drawn at random, or undefined. 32 random
 * bytes have about 30 distinct values, and are all printable ASCII with odds
 * of about 1 in 10^14; an all-zero key, a repeated pattern or a password
 * typed into base64 is caught. It cannot prove a key random; it catches the
 * keys people paste from examples.
 */
export function weakKeyReason(key: Uint8Array): string | undefined {
  const distinct = new Set(key).size;
  if (distinct === 1) return key[0] === 0 ? 'it is all zero bytes' : 'every byte is the same';
  if (distinct < 16) return `it has only ${distinct} distinct byte values`;
  if (key.every((b) => b >= 0x20 && b <= 0x7e)) return 'it is printable text (a password), not random bytes';
  return undefined;
}

// Not a NexusError: startup/CLI only (loading NEXUS_ENCRYPTION_KEYS); crypto sits below the domain and imports none of it.
export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

export interface RingKey {
  readonly id: string;
  /** The raw 32-byte key. Treat as read-only; never log it. */
  readonly key: Buffer;
}

export class KeyRing {
  // ES private fields: invisible to JSON.stringify, util.inspect and
  // structured logging even if someone bypasses toJSON/inspect.custom.
  // Changed only by adopt() (a running server taking a rotated ring).
  #keys: ReadonlyMap<string, Buffer>;
  #primaryId: string;

  private constructor(keys: Map<string, Buffer>, primaryId: string) {
    this.#keys = keys;
    this.#primaryId = primaryId;
  }

  /**
   * Parses `k2:<base64 32 bytes>,k1:<base64 32 bytes>`. The first key is the
   * primary. Whitespace around entries is ignored (env files wrap lines).
   */
  static parse(spec: string): KeyRing {
    if (typeof spec !== 'string' || spec.trim() === '') {
      throw new KeyRingError('key ring spec is empty; expected "<id>:<base64 32 bytes>[,...]"');
    }
    const entries = spec.split(',').map((entry, index) => {
      const position = index + 1;
      const trimmed = entry.trim();
      const colon = trimmed.indexOf(':');
      if (colon < 0) {
        // Without a colon the whole entry may be key material: name the position only.
        throw new KeyRingError(`key ring entry at position ${position} is not of the form "<id>:<base64 key>"`);
      }
      const id = trimmed.slice(0, colon);
      const encoded = trimmed.slice(colon + 1).trim();
      if (!KEY_ID_PATTERN.test(id)) {
        // The malformed "id" could be a fragment of a key, so do not echo it.
        throw new KeyRingError(`key ring entry at position ${position} has an invalid id (expected 1-32 of [A-Za-z0-9_-])`);
      }
      if (!BASE64_PATTERN.test(encoded)) {
        throw new KeyRingError(`key "${id}" (position ${position}) is not valid base64`);
      }
      return { id, key: Buffer.from(encoded, 'base64') };
    });
    return KeyRing.fromKeys(entries);
  }

  /** Builds a ring from raw keys; the first entry is the primary. Keys are copied. */
  static fromKeys(entries: ReadonlyArray<{ id: string; key: Uint8Array }>): KeyRing {
    if (entries.length === 0) {
      throw new KeyRingError('key ring must contain at least one key');
    }
    const keys = new Map<string, Buffer>();
    entries.forEach(({ id, key }, index) => {
      const position = index + 1;
      if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) {
        throw new KeyRingError(`key ring entry at position ${position} has an invalid id (expected 1-32 of [A-Za-z0-9_-])`);
      }
      if (keys.has(id)) {
        throw new KeyRingError(`key id "${id}" appears more than once in the key ring`);
      }
      if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
        const got = key instanceof Uint8Array ? `${key.byteLength} bytes` : 'not bytes';
        throw new KeyRingError(`key "${id}" (position ${position}) must be exactly ${KEY_BYTES} bytes, got ${got}`);
      }
      // Copy so that later mutation of the caller's buffer cannot change the ring.
      keys.set(id, Buffer.from(key));
    });
    const [primaryId] = keys.keys();
    return new KeyRing(keys, primaryId as string);
  }

  /** A fresh ring with one random key (default id "k1"). */
  static generate(id = 'k1'): KeyRing {
    return KeyRing.fromKeys([{ id, key: randomBytes(KEY_BYTES) }]);
  }

  get primary(): RingKey {
    return { id: this.#primaryId, key: this.#keys.get(this.#primaryId) as Buffer };
  }

  /** Ids in ring order, primary first. */
  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  get(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  /**
   * Rotation step 1: a new ring whose primary is a freshly generated key; the
   * old keys stay so existing values keep opening. Default id is the next
   * "k<n>" after the highest existing one.
   */
  withNewPrimary(id?: string): KeyRing {
    const newId = id ?? this.#nextId();
    if (this.#keys.has(newId)) {
      throw new KeyRingError(`key id "${newId}" is already in the key ring`);
    }
    return KeyRing.fromKeys([{ id: newId, key: randomBytes(KEY_BYTES) }, ...this.#entries()]);
  }

  /**
   * A running server takes the ring `nexus keys:rotate` made (src/cli/main.ts): every service
   * holding this ring seals under the new primary from now on. Only a ring that keeps every key
   * of this one, with the same material, is taken, so nothing sealed before stops opening.
   * Both fields change in one synchronous step: no request sees half of the change.
   */
  adopt(next: KeyRing): void {
    for (const [id, key] of this.#keys) {
      const kept = next.get(id);
      if (!kept || !kept.equals(key)) throw new KeyRingError(`the new key ring drops or changes key "${id}"`);
    }
    this.#keys = new Map(next.#entries().map(({ id, key }) => [id, Buffer.from(key)]));
    this.#primaryId = next.primary.id;
  }

  /**
   * Rotation final step: drop a retired key once nothing is sealed with it.
   * The primary cannot be removed (rotate first).
   */
  withoutKey(id: string): KeyRing {
    if (id === this.#primaryId) {
      throw new KeyRingError(`key "${id}" is the primary and cannot be removed; rotate first`);
    }
    if (!this.#keys.has(id)) {
      throw new KeyRingError(`key id "${id}" is not in the key ring`);
    }
    return KeyRing.fromKeys(this.#entries().filter((entry) => entry.id !== id));
  }

  /** Serializes back to the NEXUS_ENCRYPTION_KEYS format. Contains secrets. */
  toSpec(): string {
    return this.#entries()
      .map(({ id, key }) => `${id}:${key.toString('base64')}`)
      .join(',');
  }

  // Only ids: rings end up in config objects that get logged.
  toJSON(): { primary: string; ids: string[] } {
    return { primary: this.#primaryId, ids: this.ids };
  }

  [inspect.custom](): string {
    return `KeyRing { primary: ${JSON.stringify(this.#primaryId)}, ids: ${JSON.stringify(this.ids)} }`;
  }

  toString(): string {
    return this[inspect.custom]();
  }

  #entries(): RingKey[] {
    return [...this.#keys].map(([id, key]) => ({ id, key }));
  }

  #nextId(): string {
    let max = 0;
    for (const id of this.#keys.keys()) {
      const match = /^k(\d{1,9})$/.exec(id);
      if (match) max = Math.max(max, Number(match[1]));
    }
    return `k${max + 1}`;
  }
}
