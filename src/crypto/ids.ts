// Prefixed, time-sortable ids: `<prefix>_` + 26 chars of Crockford base32 in
// the ULID layout (48-bit millisecond timestamp, then 80 random bits). The
// timestamp comes first so ids sort by creation time (to the millisecond),
// which keeps B-tree inserts local and makes cursor pagination by id match
// creation order. 80 random bits make collisions within one millisecond
// negligible. Ids are identifiers, not secrets: never authorize by knowing one.

import { randomBytes } from 'node:crypto';

export const ID_PREFIXES = ['prj', 'key', 'prv', 'conn', 'st', 'cli', 'acct', 'ses', 'sk', 'ocr', 'whep', 'whs'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

// Crockford base32 (no I, L, O, U). Its characters are in ASCII order, so
// string order equals numeric order.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const MAX_TIME = 2 ** 48 - 1;
// 10 chars hold 50 bits but the time has 48, so the first char is 0-7.
const BODY_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function newId(prefix: IdPrefix, now: Date | number = Date.now()): string {
  if (!(ID_PREFIXES as readonly string[]).includes(prefix)) {
    throw new TypeError('newId: unknown id prefix');
  }
  const ms = typeof now === 'number' ? now : now.getTime();
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME) {
    throw new RangeError('newId: timestamp out of the 48-bit range');
  }
  return `${prefix}_${encodeTime(ms)}${encodeRandom()}`;
}

/** Exact prefix, underscore, then 26 uppercase Crockford chars with a valid timestamp. */
export function isId(prefix: IdPrefix, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const head = `${prefix}_`;
  return value.startsWith(head) && BODY_PATTERN.test(value.slice(head.length));
}

/** The creation time encoded in an id (milliseconds since the epoch). */
export function idTimestamp(value: string): number {
  const body = value.slice(value.indexOf('_') + 1);
  if (!BODY_PATTERN.test(body)) throw new TypeError('idTimestamp: not a valid id');
  let ms = 0;
  for (const char of body.slice(0, TIME_CHARS)) ms = ms * 32 + ALPHABET.indexOf(char);
  return ms;
}

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET.charAt(ms % 32) + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(): string {
  // 10 bytes = 80 bits = exactly 16 base32 chars, so no modulo bias.
  let bits = BigInt(`0x${randomBytes(10).toString('hex')}`);
  let out = '';
  for (let i = 0; i < RANDOM_CHARS; i++) {
    out = ALPHABET.charAt(Number(bits & 31n)) + out;
    bits >>= 5n;
  }
  return out;
}
